"""Feature extraction: hand-crafted (FHOG, Color Names, intensity), deep, and patch sampling.

Import the concrete modules directly (``from dcfre.features.hog import fhog``); this package
imports nothing at load time so that ``import dcfre.features`` stays cheap.
"""
