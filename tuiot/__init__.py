"""tuiot: a keyboard-first terminal console for IoT fleets across vendor clouds."""

__version__ = "0.1.0"
