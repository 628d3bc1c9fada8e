"""Long-term components of the paper (section 3): confidence, hard-negative mining, global model, re-detection."""
