"""Web pages: the main content, not the menus, comment widgets and footers around it
(synth.ingest.htmltext.main_content, trafilatura). Fixtures are generated here; the measurement on
real pages is bench/ingest_quality.py."""

from __future__ import annotations

import pytest

from synth.ingest import IngestOptions, iter_chunks, read_document

pytest.importorskip("trafilatura")

ARTICLE = ["近日，某市发布了关于加强冲压车间安全生产管理的通知，要求各企业在每班开机前完成设备点检，并如实记录点检结果。",
           "通知指出，操作工应检查润滑油位、气源压力和安全光栅，发现异常须立即停机并上报，严禁带病运行。",
           "通知还要求，企业每季度组织一次安全培训，培训记录保存不少于三年，主管部门将不定期开展抽查。"]


def _page() -> str:
    menu = "".join(f"<li><a href='/c{i}'>栏目{i}</a></li>" for i in range(30))
    hot = "".join(f"<li><a href='/n{i}'>热门新闻标题第{i}条，点击查看详情</a></li>" for i in range(15))
    body = "".join(f"<p>{p}</p>" for p in ARTICLE)
    return (f"<html><head><title>关于加强安全生产管理的通知_新闻中心</title></head><body>"
            f"<div class='nav'><ul>{menu}</ul></div><div class='main'><h1>关于加强安全生产管理的通知</h1>"
            f"<div class='meta'>2024-05-06 来源：某市新闻网</div><div class='article'>{body}</div></div>"
            f"<div class='side'><h3>热门排行</h3><ul>{hot}</ul></div><div class='comments'>已有 1938 人参与 222 条评论"
            f"</div><div class='footer'>关于我们 | 联系我们 | 广告服务 | 版权所有 © 2024</div></body></html>")


def test_a_news_page_is_read_as_its_article(tmp_path):
    path = tmp_path / "news.html"
    path.write_text(_page(), encoding="utf-8")
    doc = read_document(path)
    assert doc.text.startswith("# 关于加强安全生产管理的通知")
    assert all(p in doc.text for p in ARTICLE)
    assert "栏目7" not in doc.text and "热门新闻" not in doc.text and "版权所有" not in doc.text


def test_html_full_keeps_the_whole_page(tmp_path):
    path = tmp_path / "news.html"
    path.write_text(_page(), encoding="utf-8")
    assert "栏目7" in read_document(path, html_main=False).text
    chunks = list(iter_chunks([path], IngestOptions(html_main=False)))
    assert any("栏目7" in c["text"] for c in chunks)


def test_a_page_that_is_not_an_article_is_read_whole(tmp_path):
    path = tmp_path / "table.html"
    rows = "".join(f"<tr><td>设备{i}</td><td>{i * 10}</td></tr>" for i in range(3))
    path.write_text(f"<html><body><h1>点检表</h1><table>{rows}</table></body></html>", encoding="utf-8")
    assert read_document(path).text == "# 点检表\n\n设备0 | 0\n设备1 | 10\n设备2 | 20"


def test_the_article_keeps_its_headings_lists_and_tables_and_loses_boilerplate_inside_it(tmp_path):
    menu = "".join(f"<li><a href='/c{i}'>栏目{i}</a></li>" for i in range(30))
    related = "".join(f"<li><a href='/r{i}'>相关阅读：另一篇文章第{i}篇</a></li>" for i in range(8))
    article = (f"<h1>冲压车间安全操作规程</h1><h2>1 适用范围</h2><p>{ARTICLE[0]}</p><h2>2 点检要求</h2>"
               f"<ul><li>{ARTICLE[1]}</li><li>{ARTICLE[2]}</li></ul>"
               "<table><tr><th>项目</th><th>周期</th></tr><tr><td>润滑油位</td><td>每班</td></tr></table>"
               f"<div class='share-bar'>分享到：微信 微博 QQ空间</div><ul class='related'>{related}</ul>")
    path = tmp_path / "rules.html"
    path.write_text(f"<html><body><div class='nav'><ul>{menu}</ul></div><div class='content'>{article}</div>"
                    "<div class='footer'>版权所有 © 2024 某公司</div></body></html>", encoding="utf-8")
    text = read_document(path).text
    assert text.startswith("# 冲压车间安全操作规程\n\n## 1 适用范围\n\n" + ARTICLE[0] + "\n\n## 2 点检要求")
    assert ARTICLE[1] + "\n\n" + ARTICLE[2] in text and "项目 | 周期\n润滑油位 | 每班" in text
    assert "栏目7" not in text and "相关阅读" not in text and "分享到" not in text and "版权所有" not in text
