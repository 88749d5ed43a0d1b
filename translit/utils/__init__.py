"""Helpers with no translation in them: files, progress display, signals, native logs, plots."""
