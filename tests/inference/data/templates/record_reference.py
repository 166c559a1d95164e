#!/usr/bin/env python3
"""Records reference renderings of the chat templates in this folder with Python's jinja2,
configured the way Hugging Face transformers renders chat templates (apply_chat_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols
extension, a `{% generation %}` tag, the `raise_exception` and `strftime_now` globals and the
json.dumps-based `tojson` filter. strftime_now formats a fixed UTC time (cases.json "now_utc")
so the renderings are reproducible; agentd's renderer is given the same time in the tests.

Usage: python3 record_reference.py   (needs jinja2 >= 3.1; Debian: python3-jinja2)
Writes expected/<template>/<case>.txt, or <case>.error with the exception text when the
template raises (the C++ test then expects a render error), and expected/snippets.json with the
output (or error) of each language snippet in snippets.json.
"""
import datetime
import json
import os
import shutil
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


class GenerationTag(Extension):
    """transformers' AssistantTracker, minus the tracking: renders the body in place."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        call = self.call_method("_generation_support")
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def make_env(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt):
        return now.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        spec = json.load(f)
    with open(os.path.join(HERE, "templates.json"), encoding="utf-8") as f:
        templates = json.load(f)
    now = datetime.datetime.strptime(spec["now_utc"], "%Y-%m-%dT%H:%M:%SZ")
    env = make_env(now)
    out_root = os.path.join(HERE, "expected")
    shutil.rmtree(out_root, ignore_errors=True)
    for name, tokens in sorted(templates.items()):
        with open(os.path.join(HERE, name + ".jinja"), encoding="utf-8", newline="") as f:
            template = env.from_string(f.read())
        os.makedirs(os.path.join(out_root, name))
        for case in spec["cases"]:
            kwargs = dict(messages=case["messages"], tools=case["tools"], documents=None,
                          add_generation_prompt=case["add_generation_prompt"],
                          bos_token=tokens["bos_token"], eos_token=tokens["eos_token"])
            kwargs.update(case.get("extra", {}))
            base = os.path.join(out_root, name, case["name"])
            try:
                text = template.render(**kwargs)
                suffix, payload = ".txt", text
            except Exception as e:  # the C++ side must fail too
                suffix, payload = ".error", f"{type(e).__name__}: {e}"
            with open(base + suffix, "w", encoding="utf-8", newline="") as f:
                f.write(payload)
    with open(os.path.join(HERE, "snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)["snippets"]
    results = {}
    for snip in snippets:
        try:
            results[snip["name"]] = {"output": env.from_string(snip["template"]).render(
                **snip["context"])}
        except Exception as e:
            results[snip["name"]] = {"error": f"{type(e).__name__}: {e}"}
    with open(os.path.join(out_root, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False, indent=1, sort_keys=True)
    print(f"jinja2 {jinja2.__version__}: recorded {len(templates)} templates x "
          f"{len(spec['cases'])} cases into {out_root}", file=sys.stderr)


if __name__ == "__main__":
    main()
