"""The statistics layer: Predictions → per-split aggregates → metrics (no findings, no wording)."""
