<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>explorer</name>
    <message>
        <source>type a sentence…</source>
        <translation>输入一个句子…</translation>
    </message>
    <message>
        <source>brush </source>
        <translation>笔刷 </translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Open image…</source>
        <translation>打开图片…</translation>
    </message>
    <message>
        <source>Samples (handwriting not in training):</source>
        <translation>样例（不在训练集中的手写数字）：</translation>
    </message>
    <message>
        <source>Sample photos (CC0 / public domain):</source>
        <translation>样例照片（CC0 / 公有领域）：</translation>
    </message>
    <message>
        <source>Draw a digit:</source>
        <translation>画一个数字：</translation>
    </message>
    <message>
        <source>Draw:</source>
        <translation>画：</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>raw scores (before ÷√dh)</source>
        <translation>原始分数（÷√dh 之前）</translation>
    </message>
    <message>
        <source>log scale weights</source>
        <translation>权重取对数</translation>
    </message>
    <message>
        <source>shared colour levels</source>
        <translation>统一色阶</translation>
    </message>
    <message>
        <source>◀</source>
        <translation>◀</translation>
    </message>
    <message>
        <source>▶ play</source>
        <translation>▶ 播放</translation>
    </message>
    <message>
        <source>❚❚ pause</source>
        <translation>❚❚ 暂停</translation>
    </message>
    <message>
        <source>▶|</source>
        <translation>▶|</translation>
    </message>
    <message>
        <source>step through:</source>
        <translation>逐步：</translation>
    </message>
    <message>
        <source>gather by
relative
offset →</source>
        <translation>按相对
偏移
取值 →</translation>
    </message>
    <message>
        <source>patch numbers</source>
        <translation>图块编号</translation>
    </message>
    <message>
        <source>opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <source>▶ animate</source>
        <translation>▶ 动画</translation>
    </message>
    <message>
        <source>discard 0%</source>
        <translation>丢弃 0%</translation>
    </message>
    <message>
        <source>head fusion</source>
        <translation>多头合并</translation>
    </message>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>top-5 next-token probabilities</source>
        <translation>下一个词的前 5 个概率</translation>
    </message>
    <message>
        <source>decoding step</source>
        <translation>解码步</translation>
    </message>
    <message>
        <source>Interventions</source>
        <translation>干预</translation>
    </message>
    <message>
        <source>the model re-runs with what is switched off here</source>
        <translation>关掉这里的部件后，模型重新运行</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Clear all</source>
        <translation>全部清除</translation>
    </message>
    <message>
        <source>every decoding step sees one context vector, the mean of the encoder states, instead of attending: seq2seq before attention</source>
        <translation>每个解码步只看到一个上下文向量（编码器状态的平均），而不做注意力：注意力出现之前的 seq2seq</translation>
    </message>
    <message>
        <source>Switch off / on the selected head</source>
        <translation>关闭 / 打开所选的头</translation>
    </message>
    <message>
        <source>no attention mask</source>
        <translation>去掉注意力掩码</translation>
    </message>
    <message>
        <source>no relative bias</source>
        <translation>去掉相对位置偏置</translation>
    </message>
    <message>
        <source>no positional encoding</source>
        <translation>去掉位置编码</translation>
    </message>
    <message>
        <source>seq2seq bottleneck</source>
        <translation>seq2seq 瓶颈</translation>
    </message>
    <message>
        <source>Attention weights</source>
        <translation>注意力权重</translation>
    </message>
    <message>
        <source>Pipeline: softmax(Q·Kᵀ/√dh + B + M)·V</source>
        <translation>流程：softmax(Q·Kᵀ/√dh + B + M)·V</translation>
    </message>
    <message>
        <source>Model view</source>
        <translation>模型总览</translation>
    </message>
    <message>
        <source>Positions</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Patches</source>
        <translation>图块</translation>
    </message>
    <message>
        <source>Shifted windows</source>
        <translation>移位窗口</translation>
    </message>
    <message>
        <source>Rollout</source>
        <translation>注意力展开</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Heads</source>
        <translation>注意力头</translation>
    </message>
    <message>
        <source>layer </source>
        <translation>层 </translation>
    </message>
    <message>
        <source>head </source>
        <translation>头 </translation>
    </message>
    <message>
        <source>window </source>
        <translation>窗口 </translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>running…</source>
        <translation>运行中…</translation>
    </message>
    <message>
        <source>locked — Esc to unlock</source>
        <translation>已锁定 — 按 Esc 解锁</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一步</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一步 ▶</translation>
    </message>
    <message>
        <source>Leave tour</source>
        <translation>退出导览</translation>
    </message>
    <message>
        <source>Tour</source>
        <translation>导览</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open image…</source>
        <translation>打开图片(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation>打开模型文件夹(&amp;M)…</translation>
    </message>
    <message>
        <source>Open model &amp;file (timm)…</source>
        <translation>打开模型文件（timm）(&amp;F)…</translation>
    </message>
    <message>
        <source>Recent mo&amp;dels</source>
        <translation>最近的模型(&amp;D)</translation>
    </message>
    <message>
        <source>Open &amp;session…</source>
        <translation>打开会话(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Recent sessions</source>
        <translation>最近的会话(&amp;R)</translation>
    </message>
    <message>
        <source>Sa&amp;ve session…</source>
        <translation>保存会话(&amp;V)…</translation>
    </message>
    <message>
        <source>Save &amp;trace (.npz)…</source>
        <translation>保存追踪数据（.npz）(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Export panel…</source>
        <translation>导出面板(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Copy panel as image</source>
        <translation>复制面板为图片(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Actual size</source>
        <translation>实际大小(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Presentation (full screen, large text)</source>
        <translation>演示模式（全屏、大字）(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Tour</source>
        <translation>导览(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Start the tour</source>
        <translation>开始导览(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Leave the tour</source>
        <translation>退出导览(&amp;L)</translation>
    </message>
    <message>
        <source>the same as the grammar's own translation</source>
        <translation>与语法自带的翻译一致</translation>
    </message>
    <message>
        <source>move the slider or point at a step</source>
        <translation>拖动滑块或指向某一步</translation>
    </message>
    <message>
        <source>encoder self</source>
        <translation>编码器自注意力</translation>
    </message>
    <message>
        <source>decoder self (masked)</source>
        <translation>解码器自注意力（带掩码）</translation>
    </message>
    <message>
        <source>cross (decoder → encoder)</source>
        <translation>交叉注意力（解码器 → 编码器）</translation>
    </message>
    <message>
        <source>self</source>
        <translation>自注意力</translation>
    </message>
    <message>
        <source>window (W/SW-MSA)</source>
        <translation>窗口注意力（W/SW-MSA）</translation>
    </message>
    <message>
        <source>model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>grammar:</source>
        <translation>语法：</translation>
    </message>
    <message>
        <source>with interventions:</source>
        <translation>有干预：</translation>
    </message>
    <message>
        <source>without:</source>
        <translation>无干预：</translation>
    </message>
    <message>
        <source>with interventions (coloured):</source>
        <translation>有干预（彩色）：</translation>
    </message>
    <message>
        <source>without (grey):</source>
        <translation>无干预（灰色）：</translation>
    </message>
    <message>
        <source>digit </source>
        <translation>数字 </translation>
    </message>
    <message>
        <source>inverted (light background)</source>
        <translation>已反色（浅色背景）</translation>
    </message>
    <message>
        <source>cropped to the ink, scaled to fit 24×24 in a 32×32 frame</source>
        <translation>裁到笔迹，缩放到 24×24 并放进 32×32 的画框</translation>
    </message>
    <message>
        <source>(none yet)</source>
        <translation>（暂无）</translation>
    </message>
    <message>
        <source>(nothing)</source>
        <translation>（空）</translation>
    </message>
    <message>
        <source>unknown: </source>
        <translation>未知词：</translation>
    </message>
    <message>
        <source>best: </source>
        <translation>最可能：</translation>
    </message>
    <message>
        <source>blank image: nothing to recognise</source>
        <translation>空白图片：没有可识别的内容</translation>
    </message>
    <message>
        <source>the model's guess anyway: {guess}</source>
        <translation>模型仍然给出的猜测：{guess}</translation>
    </message>
    <message>
        <source>{site} head {head} off</source>
        <translation>{site} 头 {head} 已关闭</translation>
    </message>
    <message>
        <source>&lt;b&gt;Outside what the model learned&lt;/b&gt;: {reason}. Its answer is a guess; the grammar has no translation to compare it with.</source>
        <translation>&lt;b&gt;超出模型学过的范围&lt;/b&gt;：{reason}。它的答案只是猜测；语法没有可供比较的翻译。</translation>
    </message>
    <message>
        <source>Showing the previous input — yours was refused: {reason}</source>
        <translation>显示的是上一个输入 — 你的输入被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Still showing {model} — cannot open {path}: {reason}</source>
        <translation>仍在显示 {model} — 无法打开 {path}：{reason}</translation>
    </message>
    <message>
        <source>cannot open {path}: {reason}</source>
        <translation>无法打开 {path}：{reason}</translation>
    </message>
    <message>
        <source>{model} reads text: the image is opened with vit-digits</source>
        <translation>{model} 读的是文字：图片改用 vit-digits 打开</translation>
    </message>
    <message>
        <source>step {step}: having read “{seen}”, chose &lt;b&gt;{word}&lt;/b&gt; ({p}); alternatives: </source>
        <translation>第 {step} 步：读到“{seen}”后，选了 &lt;b&gt;{word}&lt;/b&gt;（{p}）；其他候选：</translation>
    </message>
    <message>
        <source>before the roll</source>
        <translation>移位之前</translation>
    </message>
    <message>
        <source>The token grid as the previous block left it: windows tile it.</source>
        <translation>上一个块留下的词元网格：窗口把它铺满。</translation>
    </message>
    <message>
        <source>roll (−s, −s)</source>
        <translation>移位 (−s, −s)</translation>
    </message>
    <message>
        <source>torch.roll moves every token up and left by s; the rows and columns pushed out re-enter at the bottom and right. Colours: the nine regions of the mask.</source>
        <translation>torch.roll 把每个词元向上、向左移动 s 格；被推出去的行和列从下边和右边重新进来。颜色：掩码的九个区域。</translation>
    </message>
    <message>
        <source>windows</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>Windows are cut from the rolled grid as usual. A window at the border holds tokens from up to four regions: the mask keeps regions apart.</source>
        <translation>照常从移位后的网格切出窗口。边上的窗口含有来自最多四个区域的词元：掩码把这些区域隔开。</translation>
    </message>
    <message>
        <source>roll back (+s, +s)</source>
        <translation>移回 (+s, +s)</translation>
    </message>
    <message>
        <source>After attention the grid is rolled back: each new window straddles the borders of the previous block's windows, so information crosses them.</source>
        <translation>注意力之后把网格移回：每个新窗口跨过上一个块的窗口边界，信息因此穿过边界。</translation>
    </message>
</context>
</TS>
