"""The OpenAI-compatible chat engine (OpenAI, vLLM, Ollama, llama.cpp server)."""

from summarizer.engines.llm.engine import OpenAIEngine

__all__ = ["OpenAIEngine"]
