"""Analog transmission (SoftCast-style) of a VAE latent or of an image's pixels: pure numpy.

`AnalogSpec` parses the variant text (`analog:frac=1/16`, `softcast:sym=20000`, ...),
`AnalogCodec` turns a (C, H, W) tensor into an `AnalogFrame` of unit-energy complex symbols and
back by LMMSE; the channel is `semcom.phy.analog.analog_channel`. See docs/analog.md.
"""

from semcom.analog.codec import AnalogCodec, AnalogFrame
from semcom.analog.spec import SCHEMES, AnalogSpec, is_analog
from semcom.analog.stats import AnalogStats

__all__ = ["SCHEMES", "AnalogCodec", "AnalogFrame", "AnalogSpec", "AnalogStats", "is_analog"]
