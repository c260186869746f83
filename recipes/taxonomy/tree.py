"""Taxonomy trees: load a YAML or Markdown topic tree, validate it, list its leaves.

A tree is GLAN's "taxonomy → subjects → key concepts" (Li et al. 2024, arXiv 2402.13064) for one
business domain: topics, subtopics, and knowledge points at the leaves. YAML (what `synth taxonomy`
writes; a bare nested mapping works too)::

    domain: 金融
    language: zh
    personas: [刚参加工作的年轻人, 银行柜员]
    tree:
      个人理财:
        储蓄与存款:
          - 定期存款提前支取的利息计算
          - 大额存单与普通定期存款的区别
      反洗钱:
        - 可疑交易报告的触发条件

A mapping key is a topic and must have children: a mapping (subtopics), a list (knowledge points,
or one-key mappings for subtopics) or one string (a single knowledge point). Markdown: headings are
topics (a lone level-1 heading is the domain), bullets nested under them are subtopics and
knowledge points; a heading must have something under it. Siblings must have distinct names; the
same name under different parents is fine. Every problem is one `InputError` naming the file, the
line and the node.

>>> tree = parse_markdown("# 金融\\n## 信贷\\n- 征信\\n  - 逾期记录的保存期限\\n- LPR\\n", "t.md")
>>> tree.domain, tree.leaves
('金融', [('信贷', '征信', '逾期记录的保存期限'), ('信贷', 'LPR')])
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from synth.errors import InputError

TREE_SUFFIXES = (".yaml", ".yml", ".md", ".markdown")
META_KEYS = {"domain", "description", "language", "personas", "tree"}


@dataclass
class Node:
    name: str
    line: int
    children: list[Node] = field(default_factory=list)
    needs_children: bool = False  # a YAML key or a Markdown heading: a topic, never a leaf


@dataclass
class Taxonomy:
    source: str
    leaves: list[tuple[str, ...]]
    domain: str | None = None
    description: str | None = None
    language: str | None = None
    personas: list[str] = field(default_factory=list)


def load_tree(path: str | Path) -> Taxonomy:
    """Read and validate a tree file (.yaml/.yml or .md/.markdown)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"taxonomy tree not found: {p} (pass a .yaml or .md tree, e.g. one written by "
                         "`synth taxonomy DOMAIN --out tree.yaml`)")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p} is not valid UTF-8 (byte {exc.start}): re-save it as UTF-8") from None
    if p.suffix.lower() in (".md", ".markdown"):
        return parse_markdown(text, str(p))
    return parse_yaml(text, str(p))


# -- YAML ------------------------------------------------------------------------------------------
def parse_yaml(text: str, source: str) -> Taxonomy:
    try:
        doc = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes keep their line numbers
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InputError(f"{where}: malformed YAML ({getattr(exc, 'problem', None) or exc}): fix the syntax") from None
    if doc is None:
        raise InputError(f"{source}: the tree is empty: add topics and knowledge points")
    meta: dict[str, yaml.Node] = {}
    body = doc
    if isinstance(doc, yaml.MappingNode):
        keys = {k.value for k, _ in doc.value if isinstance(k, yaml.ScalarNode)}
        if "tree" in keys and keys <= META_KEYS:
            meta = {k.value: v for k, v in doc.value}
            body = meta["tree"]
    if not isinstance(body, (yaml.MappingNode, yaml.SequenceNode)):
        raise InputError(f"{source}:{body.start_mark.line + 1}: the tree must be a mapping of topics or a list, "
                         f"not a single value")
    root = Node("", body.start_mark.line + 1, _yaml_children(body, (), source))
    scalars = {k: _meta_scalar(meta[k], k, source) for k in ("domain", "description", "language") if k in meta}
    return _finish(root, source, personas=_meta_list(meta.get("personas"), source), **scalars)


def _yaml_children(node: yaml.Node, where: tuple[str, ...], source: str) -> list[Node]:
    if isinstance(node, yaml.MappingNode):
        return [_yaml_topic(k, v, where, source) for k, v in node.value]
    if isinstance(node, yaml.SequenceNode):
        out: list[Node] = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                out.append(Node(_name(item, where, source), item.start_mark.line + 1))
            elif isinstance(item, yaml.MappingNode):
                out += _yaml_children(item, where, source)
            else:
                raise _error(source, item.start_mark.line + 1, where,
                             "has a list inside a list: give the inner list a topic name (`- name: [..]`)")
        return out
    if isinstance(node, yaml.ScalarNode) and node.value.strip() and node.tag != "tag:yaml.org,2002:null":
        return [Node(_name(node, where, source), node.start_mark.line + 1)]
    return []


def _yaml_topic(key: yaml.Node, value: yaml.Node, where: tuple[str, ...], source: str) -> Node:
    if not isinstance(key, yaml.ScalarNode):
        raise _error(source, key.start_mark.line + 1, where, "has a topic name that is not text")
    name = _name(key, where, source)
    return Node(name, key.start_mark.line + 1, _yaml_children(value, (*where, name), source), needs_children=True)


def _name(node: yaml.ScalarNode, where: tuple[str, ...], source: str) -> str:
    name = " ".join(str(node.value).split())
    if not name or node.tag == "tag:yaml.org,2002:null":
        raise _error(source, node.start_mark.line + 1, where, "has an empty entry: write a name or delete the line")
    return name


def _meta_scalar(node: yaml.Node, key: str, source: str) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError(f"{source}:{node.start_mark.line + 1}: `{key}` must be one line of text")
    return node.value.strip() or None


def _meta_list(node: yaml.Node | None, source: str) -> list[str]:
    if node is None or (isinstance(node, yaml.ScalarNode) and not node.value.strip()):
        return []
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) for i in node.value):
        raise InputError(f"{source}:{node.start_mark.line + 1}: `personas` must be a list of one-line descriptions")
    out = [" ".join(i.value.split()) for i in node.value]
    if not all(out):
        raise InputError(f"{source}:{node.start_mark.line + 1}: `personas` has an empty entry: delete it")
    return out


# -- Markdown --------------------------------------------------------------------------------------
def parse_markdown(text: str, source: str) -> Taxonomy:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    root = Node("", 1)
    headings: list[tuple[int, Node]] = []
    titles: list[Node] = []  # level-1 headings
    items: list[list] = []  # open list items: [node or None, line, parent]

    def container() -> Node:
        if items:
            node = items[-1][0]
            if node is None:  # "- - x": a list item that opens with another list
                raise _error(source, items[-1][1], (), "has a bullet without text: write a name or delete it")
            return node
        return headings[-1][1] if headings else root

    for i, tok in enumerate(tokens):
        line = (tok.map[0] + 1) if tok.map else 0
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            name = _inline_text(tokens[i + 1])
            if not name:
                raise _error(source, line, (), "has an empty heading: write a name or delete it")
            while headings and headings[-1][0] >= level:
                headings.pop()
            items.clear()
            node = Node(name, line, needs_children=True)
            if level == 1:
                titles.append(node)
            (headings[-1][1] if headings else root).children.append(node)
            headings.append((level, node))
        elif tok.type == "list_item_open":
            items.append([None, line, container()])
        elif tok.type == "inline" and items and items[-1][0] is None and tokens[i - 1].type == "paragraph_open":
            name = _inline_text(tok)
            if name:
                items[-1][0] = Node(name, items[-1][1])
                items[-1][2].children.append(items[-1][0])
        elif tok.type == "list_item_close":
            node, item_line, _ = items.pop()
            if node is None:
                raise _error(source, item_line, (), "has a bullet without text: write a name or delete it")
    domain = None
    if len(root.children) == 1 and titles and root.children[0] is titles[0]:
        domain = root.children[0].name  # a lone title heading names the domain
        root = Node("", root.children[0].line, root.children[0].children)
    return _finish(root, source, domain=domain)


def _inline_text(tok) -> str:
    parts = [c.content for c in (tok.children or []) if c.type in ("text", "code_inline", "softbreak")]
    return " ".join("".join(parts).split())


# -- shared checks ---------------------------------------------------------------------------------
def _finish(root: Node, source: str, **meta) -> Taxonomy:
    leaves: list[tuple[str, ...]] = []
    _walk(root, (), source, leaves)
    if not leaves:
        raise InputError(f"{source}: the tree has no knowledge points: add topics with leaves under them")
    return Taxonomy(source=source, leaves=leaves, **meta)


def _walk(node: Node, where: tuple[str, ...], source: str, leaves: list) -> None:
    seen: dict[str, Node] = {}
    for child in node.children:
        key = unicodedata.normalize("NFKC", child.name).casefold()
        if key in seen:
            raise _error(source, child.line, where, f"has two children named {child.name!r} (lines "
                         f"{seen[key].line} and {child.line}): rename or merge them")
        seen[key] = child
        path = (*where, child.name)
        if child.children:
            _walk(child, path, source, leaves)
        elif child.needs_children:
            raise _error(source, child.line, path, "is empty: list its subtopics or knowledge points under it, "
                         "or delete it")
        else:
            leaves.append(path)


def _error(source: str, line: int, where: tuple[str, ...], problem: str) -> InputError:
    node = f"node {' / '.join(where)!r}" if where else "the tree"
    return InputError(f"{source}:{line}: {node} {problem}")
