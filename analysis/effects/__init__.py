"""What a run computes from the recorded frames, with no Django: outcome derivation, the research
question registry, estimation per outcome, multiplicity adjustment, plan content, dose-response
and disclosure control."""
