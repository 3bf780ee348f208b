"""What is recorded: studies, arms, families, waves, indicator values, surveys, contacts, access rules."""
