"""`semcom ui`: a web page (Gradio) to watch an image cross the channel (docs/ui.md).

`backend` holds everything the page computes and imports no Gradio; `app` builds the page.
"""
