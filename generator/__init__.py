"""Loads and validates the YAML content, renders it to Markdown and builds the site."""
