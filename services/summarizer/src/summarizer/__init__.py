"""Minuta summarizer: turns a transcript into minutes (summary, decisions, action items)."""
