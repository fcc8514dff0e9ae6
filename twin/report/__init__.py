"""What a run means for its readers: key figures (tables and series), warnings, and the report's text."""
