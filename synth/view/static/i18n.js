/* synth view: the interface's words in other languages, looked up whole by app.js's t(); {name} is a
 * value filled in. A string missing here shows in English. Data (model output, field values, reasons)
 * is never translated. */
window.SYNTH_I18N = {
  zh: {
    // navigation and page titles
    "Overview": "概览", "Rows": "数据行", "Rejected": "已剔除", "Failed": "失败", "Coverage": "覆盖",
    "Rejected rows": "被剔除的行", "Failed seed rows": "失败的种子行", "Loading…": "加载中…",
    "Run ": "运行 ", "Error: ": "出错：", "Cannot read the run: ": "无法读取该运行：",
    // overview cards
    "Status": "状态", "Model": "模型", "Sampling": "采样参数", "Seed rows": "种子行",
    "Requests and tokens": "请求与 token", "Row sets": "数据集合", "Engines by role": "各角色的引擎",
    "Student pass rates": "学生模型通过率", "student model": "学生模型", "pass-rate band": "保留的通过率区间",
    "questions probed": "探测的题目", "answers asked": "采样的答案", "saved by early stopping": "提前停止节省",
    "too easy (solved)": "过易（总能答对）", "too hard (never solved)": "过难（从未答对）", "pass rate": "通过率",
    "probed": "探测", "Funnel": "漏斗", "Structured (JSON) answers": "结构化（JSON）回答", "Versions": "版本",
    "status": "状态", "recipe": "配方", "sessions": "会话数", "started": "开始时间", "finished": "结束时间",
    "this session": "本次会话用时", "fingerprint": "配置指纹", "directory": "目录", "model": "模型",
    "engine": "引擎", "server": "服务端", "base URL": "服务地址", "native n": "原生 n", "JSON schema": "JSON 模式",
    "selected": "选中", "done": "完成", "failed": "失败", "follow-up": "后续追加", "sent": "已发送",
    "cache hits": "缓存命中", "cache misses": "缓存未命中", "retries": "重试", "prompt tokens": "提示 token",
    "completion tokens": "生成 token", "kept": "保留", "rejected": "剔除", "exports": "导出格式",
    "role": "角色", "used by": "使用方", "temperature": "温度", "top_p": "top_p", "max_tokens": "最大 token 数",
    "seed": "随机种子", "stop": "停止词",
    "The run has not written its dataset yet: Rows shows the generated records before filters.":
      "该运行尚未写出数据集：“数据行”显示的是过滤前生成的记录。",
    // funnel
    "stage": "阶段", "in": "输入", "dropped": "剔除", "dropped by reason": "按原因剔除", "time": "用时",
    "seed rows → records": "种子行 → 记录", "{p}% kept": "保留 {p}%",
    "No stage counts yet (the run has not reached its stages).": "尚无阶段计数（该运行还未进入处理阶段）。",
    // row lists
    "Search all text (中文 / English)…": "搜索全部文本（中文 / English）…", "Search": "搜索", "Clear": "清除",
    "any {name}": "全部{name}", "verdict": "判定", "cell": "单元格", "document": "文档", "split": "划分",
    "reason": "原因", "#": "#", "question / instruction": "问题 / 指令", "answer": "回答", "tags": "标签",
    "seed row": "种子行", "error": "错误",
    "Searching… {found} found, {scanned} of {total} rows searched": "搜索中… 已找到 {found} 条，已搜索 {scanned} / {total} 行",
    "rows {from}–{to} of {total}": "第 {from}–{to} 行，共 {total} 行", "no rows": "没有数据行",
    "{n} match on this page; ": "本页 {n} 条匹配；", "{n} matches on this page; ": "本页 {n} 条匹配；",
    "searched to the end ({total} rows)": "已搜索到末尾（共 {total} 行）",
    "searched up to row {scanned} of {total}": "已搜索到第 {scanned} 行，共 {total} 行",
    " · this file holds {n} of the run's {total} rows": " · 本文件包含该运行 {total} 行中的 {n} 行",
    "← Previous": "← 上一页", "Next →": "下一页 →", "page": "第", "of {n}": "页，共 {n} 页", "Go": "跳转",
    "By stage and reason": "按阶段和原因", "rows": "行数", "Nothing was rejected.": "没有被剔除的行。",
    "Generated records, before filters and dedup: the run has not written data/ yet.":
      "过滤和去重之前生成的记录：该运行尚未写出 data/。",
    // one row
    "row {n} of {total}": "第 {n} 行，共 {total} 行", "‹ previous": "‹ 上一行", "next ›": "下一行 ›",
    " at ": " 于阶段 ", " — reason ": " — 原因 ", "Failed seed row": "失败的种子行", "Seed row": "种子行",
    "Conversation": "对话", "Problem": "题目", "Answer": "回答", "Reasoning": "推理过程",
    "model thinking (kept apart from the answer)": "模型的思考过程（与回答分开保存）",
    "Steps": "步骤", "step": "步骤", "label": "标注", "MC value": "MC 值", "rollouts correct": "正确的推演数",
    "unlabelled": "未标注", "+1 good": "+1 正确", "−1 bad": "−1 错误", "✗ first wrong step": "✗ 第一个错误步骤",
    "Every step leads to the right answer.": "每一步都通向正确答案。", "No step is labelled wrong.": "没有步骤被标为错误。",
    "First wrong step: {n} of {total}.": "第一个错误步骤：第 {n} 步，共 {total} 步。",
    "Votes": "投票", "majority answer": "多数答案", "votes": "票数", "answered samples": "有答案的样本",
    "agreement": "一致率", "Preference pair (DPO)": "偏好对（DPO）", "Chosen": "选中", "Rejected ": "被拒 ",
    "final answer": "最终答案", "Verdict": "判定", "verification": "校验", "reference answer": "参考答案",
    "reference answer source": "参考答案来源", "answer pattern": "答案格式", "correct": "正确", "Grounding": "依据核查",
    "supported": "有依据", "method": "方法", "quote": "引文", "found at": "位置", "score": "得分", "Judge": "评审",
    "Provenance": "来源", "Source chunk": "来源片段", "headings": "标题层级", "span": "字符范围", "chunk id": "片段 ID",
    "language": "语言", "RAFT documents": "RAFT 文档", "Taxonomy cell": "分类单元格", "path": "路径",
    "round": "轮次", "Evolution": "演化", "Augmented from": "扩增自", "key": "键", "records": "记录数",
    "Seed row ": "种子行 ", " (not in cache.sqlite)": "（不在 cache.sqlite 中）", "Scores": "评分",
    "Generation": "生成信息", "Other fields": "其他字段", "Raw JSON": "原始 JSON", "yes": "是", "no": "否",
    // coverage
    "Coverage report": "覆盖报告", "none": "无", "First {n} rows shown.": "仅显示前 {n} 行。",
    "This run has no coverage report or taxonomy / document fields (the doc-qa, taxonomy and evolve recipes write them).":
      "该运行没有覆盖报告，也没有分类 / 文档字段（doc-qa、taxonomy 和 evolve 配方会写出它们）。"
  }
};
