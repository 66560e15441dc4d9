# Thin aliases; ./dev does the work (it also sets up .venv).
.PHONY: serve test lint check bench
serve:
	./dev serve
test:
	./dev test
lint:
	./dev lint
check:
	./dev check
bench:
	./dev bench
