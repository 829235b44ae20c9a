"""paperset's Scrapy project: crawling, extraction and item pipelines for Hugging Face Papers."""

__version__ = "0.1.0"
