"""Physical layer, pure numpy: Gray QAM mapping (`mapping`), channel models (`channel`), SNR
conversions (`snr`), closed-form error rates (`theory`), bit scrambling (`scrambling`), and the
speed comparison with commpy/Sionna (`benchmark`). See docs/channel.md."""
