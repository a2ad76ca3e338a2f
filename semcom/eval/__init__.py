"""Evaluation: datasets, resumable sweeps over (mode, latent variant, SNR, k), tables, plots, reports.

    semcom eval run --data DIR --out RUN_DIR ...   ->  results.jsonl, per_image.csv, aggregate.csv/json
    semcom eval report RUN_DIR                     ->  report.md + figures/

Modules: dataset (images + captions), grid (cells and latent variants), repair (receiver-side
latent treatments), store (run directory, cache, seeds), sweep (the loop), aggregate (mean and
95% CI), plots (Fig. 3/4/5 style), report (Markdown).
"""
