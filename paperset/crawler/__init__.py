"""paperset's Scrapy project: crawling, extraction and item pipelines for Hugging Face Papers."""
