"""A replica of Hugging Face Papers built from the real API corpus, served on loopback for tests and the demo."""
