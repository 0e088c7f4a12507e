"""The pipeline orchestrator: state machine, dispatcher, event applier, sweeper."""
