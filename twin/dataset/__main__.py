"""``python -m twin.dataset``: the variable catalogue as a Markdown table (the one in ``docs/dataset.md``)."""

from twin.dataset.catalogue import markdown_table

print(markdown_table())
