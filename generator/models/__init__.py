"""One module per content type; each model forbids unknown keys."""

from __future__ import annotations

from generator.models.courses import Course
from generator.models.events import Event
from generator.models.faq import FaqEntry
from generator.models.guides import Guide
from generator.models.helper import Helper
from generator.models.posts import NewsItem, Notice, ShowcaseStory, Voice
from generator.models.search import SearchTerms
from generator.models.site import SiteConfig
from generator.models.themes import Theme

# Folder under content/ -> the model of each YAML file in it.
CONTENT_TYPES: dict[str, type] = {
    "courses": Course,
    "guides": Guide,
    "faq": FaqEntry,
    "news": NewsItem,
    "notices": Notice,
    "showcase": ShowcaseStory,
    "themes": Theme,
    "voices": Voice,
    "helper": Helper,
    "events": Event,
}

# Files directly under content/ that configure the whole site rather than one page;
# site.yaml must exist, the others are optional.
SINGLE_FILES: dict[str, type] = {
    "site.yaml": SiteConfig,
    "search.yaml": SearchTerms,
}

__all__ = ["CONTENT_TYPES", "SINGLE_FILES", "SearchTerms", "SiteConfig"]
