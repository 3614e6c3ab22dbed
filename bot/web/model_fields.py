"""The model and LoRA fields of the web's create and settings pages (issue 16: "the model once
several exist"). They fill the same request fields as `/imagine model:` / `lora:` and
`/settings set model:`, so the refusals (an unknown model or LoRA, an option and the prompt's
`--model` or `<lora:...>` that disagree) are the one submit path's, with the same words.

The model select shows only when IMAGE_MODELS lists more than one model, the server's default
marked; the LoRA field (`name` or `name:0.8`, as the Discord option) shows when LORA_DIR is set,
its suggestions LORA_DIR's file names, read when the page is drawn (a file added is offered at once)."""
from __future__ import annotations

from bot.models_catalog import DEFAULT_LORA_WEIGHT, ModelCatalog
from bot.web.pages import e


def _model_options(catalog: ModelCatalog, chosen: str, empty: str) -> str:
    options = [f'<option value="">{e(empty)}</option>']
    for name in catalog.names:
        label = f"{name} (default)" if name == catalog.default else name
        selected = " selected" if chosen and chosen.lower() == name.lower() else ""
        options.append(f'<option value="{e(name)}"{selected}>{e(label)}</option>')
    return "".join(options)


def create_fields(catalog: ModelCatalog, values: dict) -> str:
    """The create form's model select and LoRA field (empty when neither applies)."""
    parts = []
    if len(catalog.entries) > 1:
        options = _model_options(catalog, str(values.get("model") or ""), "(your default)")
        parts.append(f'<label>Model <select name="model">{options}</select></label>')
    if catalog.lora_dir is not None:
        names = "".join(f'<option value="{e(n)}"></option>' for n in catalog.lora_files())
        parts.append(f'<label>LoRA <input name="lora" list="lora-names" maxlength="100" '
                     f'value="{e(values.get("lora", ""))}" placeholder="name or name:{DEFAULT_LORA_WEIGHT:g}" '
                     f'title="a LoRA from the list, optionally with a weight: name or name:0.8 (also '
                     f'&lt;lora:name:0.8&gt; in the prompt)"></label><datalist id="lora-names">{names}</datalist>')
    return f'<div class="row">{"".join(parts)}</div>' if parts else ""


def settings_field(catalog: ModelCatalog) -> str:
    """The settings form's default model (as `/settings set model:`), with several models only."""
    if len(catalog.entries) <= 1:
        return ""
    return f'<label>Model <select name="model">{_model_options(catalog, "", "(keep)")}</select></label>'


def form_text(values, name: str) -> str | None:
    """A form's text field, stripped; None when empty (the option left out)."""
    return str(values.get(name) or "").strip() or None
