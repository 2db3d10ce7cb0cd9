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
        <source>the same as the grammar&apos;s own translation</source>
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
        <source>self (causal)</source>
        <translation>自注意力（因果）</translation>
    </message>
    <message>
        <source>self (bidirectional)</source>
        <translation>自注意力（双向）</translation>
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
        <source>the model&apos;s guess anyway: {guess}</source>
        <translation>模型仍然给出的猜测：{guess}</translation>
    </message>
    <message>
        <source>one of the top 5 here, or type a word or token and press Enter (it must be one token of the model; a leading space counts; #id for an id)</source>
        <translation>选这里的前 5 个之一，或输入一个词或词元后按回车（它必须是模型的一个词元；开头的空格也算；#编号 表示按编号）</translation>
    </message>
    <message>
        <source>{site} head {head} off</source>
        <translation>{site} 头 {head} 已关闭</translation>
    </message>
    <message>
        <source>{site} head {head} at its mean</source>
        <translation>{site} 头 {head} 换成其平均</translation>
    </message>
    <message>
        <source>{mlp} off</source>
        <translation>{mlp} 已关闭</translation>
    </message>
    <message>
        <source>off by zero</source>
        <translation>关闭方式：置零</translation>
    </message>
    <message>
        <source>off by its mean over positions</source>
        <translation>关闭方式：换成各位置上的平均</translation>
    </message>
    <message>
        <source>zero: the head writes nothing; mean: at every position it writes its average output over this input&apos;s positions (what it says about the whole input stays, what it says about each token goes)</source>
        <translation>置零：该头什么也不写入；平均：它在每个位置都写入自己在本输入各位置上的平均输出（关于整个输入的信息保留，关于每个词元的信息消失）</translation>
    </message>
    <message>
        <source>Switch off / on this layer&apos;s MLP</source>
        <translation>关闭 / 打开本层的前馈网络</translation>
    </message>
    <message>
        <source>the MLP in the selected head&apos;s layer writes nothing into the residual stream (a post-norm model still normalises the stream after it)</source>
        <translation>所选头所在层的 MLP 不再向残差流写入任何内容（后归一化模型在它之后仍会对残差流做归一化）</translation>
    </message>
    <message>
        <source>the selected head&apos;s layer has no MLP</source>
        <translation>所选头所在的层没有 MLP</translation>
    </message>
    <message>
        <source>{preset} has no such MLP: not switched</source>
        <translation>{preset} 没有这个 MLP：未切换</translation>
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
        <source>After attention the grid is rolled back: each new window straddles the borders of the previous block&apos;s windows, so information crosses them.</source>
        <translation>注意力之后把网格移回：每个新窗口跨过上一个块的窗口边界，信息因此穿过边界。</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 个词元</translation>
    </message>
    <message>
        <source>(no [MASK] in the input)</source>
        <translation>（输入里没有 [MASK]）</translation>
    </message>
    <message>
        <source>(switched off)</source>
        <translation>（已关闭）</translation>
    </message>
    <message>
        <source>+ bias, mask</source>
        <translation>+ 偏置、掩码</translation>
    </message>
    <message>
        <source>A last linear layer W_o mixes the heads: the block&apos;s attention output.</source>
        <translation>最后一个线性层 W_o 把各头混合起来：这一块的注意力输出。</translation>
    </message>
    <message>
        <source>Add the mask M: -inf where a query may not look (a later word: the decoder must not see the future).</source>
        <translation>加上掩码 M：查询不可看的位置为 -inf（后面的词：解码器不能看到未来）。</translation>
    </message>
    <message>
        <source>Add the relative position bias B (by relative offset); this block has no mask.</source>
        <translation>加上相对位置偏置 B（按相对偏移取值）；这一块没有掩码。</translation>
    </message>
    <message>
        <source>Add the relative position bias B and the mask M: -100 where a query may not look (a token from another region of the rolled grid).</source>
        <translation>加上相对位置偏置 B 和掩码 M：查询不可看的位置为 -100（移位后网格中另一区域的词元）。</translation>
    </message>
    <message>
        <source>Choose another preset in the toolbar, or open a model folder.</source>
        <translation>请在工具栏中选择另一个预设，或打开一个模型文件夹。</translation>
    </message>
    <message>
        <source>Divided by √dh so that the softmax does not saturate as dh grows.</source>
        <translation>除以 √dh，使 dh 变大时 softmax 不会饱和。</translation>
    </message>
    <message>
        <source>Each query&apos;s output is the weighted average of the value vectors.</source>
        <translation>每个查询的输出是值向量的加权平均。</translation>
    </message>
    <message>
        <source>Each token is projected to a query q = x·W_q and a key k = x·W_k (here per head, dh columns).</source>
        <translation>每个词元被投影为查询 q = x·W_q 和键 k = x·W_k（这里按头计算，dh 列）。</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Learned absolute positions: one trained vector per position is added to the token&apos;s embedding. In a trained model nearby positions have similar vectors: a band along the diagonal of the similarity.</source>
        <translation>学习得到的绝对位置：每个位置有一个训练出来的向量，加到词元嵌入上。训练好的模型中相邻位置的向量相似：相似度矩阵的对角线附近出现一条带。</translation>
    </message>
    <message>
        <source>Nothing to add here: this site has neither a position bias nor a mask (every query may look at every key).</source>
        <translation>这里不加任何东西：这个位置既没有位置偏置也没有掩码（每个查询都可以看每个键）。</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>打开图片</translation>
    </message>
    <message>
        <source>PE(pos, dim) for dims</source>
        <translation>PE(pos, dim)，维度</translation>
    </message>
    <message>
        <source>PE(pos, dim) of chosen dimensions</source>
        <translation>所选维度的 PE(pos, dim)</translation>
    </message>
    <message>
        <source>Q, K</source>
        <translation>Q、K</translation>
    </message>
    <message>
        <source>Raw scores: every query dotted with every key, q·kᵀ.</source>
        <translation>原始分数：每个查询与每个键的点积 q·kᵀ。</translation>
    </message>
    <message>
        <source>Rotary positions (RoPE): q and k are rotated, dimension pair i by position × θ_i, so a score depends only on how far apart the tokens are. Left: how many tokens each pair needs for a full turn (dashed: this input, {n} tokens). Middle: the selected pair&apos;s score if the query stood at each distance after the key (dot: where it really is, {offset}); grey: q = k = 1, the slow decay with distance. Point at a cell of the attention to choose the pair.</source>
        <translation>旋转位置编码（RoPE）：q 和 k 被旋转，第 i 个维度对旋转 位置 × θ_i，因此分数只取决于两个词元相隔多远。左：每个维度对转一整圈需要多少个词元（虚线：本输入，{n} 个词元）。中：若查询位于键之后的各个距离，所选词元对的分数（圆点：实际位置，{offset}）；灰色：q = k = 1，随距离缓慢衰减。指向注意力中的一个格子来选择词元对。</translation>
    </message>
    <message>
        <source>Rotary positions are switched off by an intervention: q and k are not rotated, so attention cannot tell where a token is.</source>
        <translation>旋转位置编码已被干预关闭：q 和 k 不再旋转，注意力因此无法知道词元在哪里。</translation>
    </message>
    <message>
        <source>SW-MSA, shift {shift}</source>
        <translation>SW-MSA，移位 {shift}</translation>
    </message>
    <message>
        <source>Softmax over each row: the attention weights, each row sums to 1.</source>
        <translation>对每一行做 softmax：得到注意力权重，每行之和为 1。</translation>
    </message>
    <message>
        <source>The outputs of all heads side by side: [N × H·dh].</source>
        <translation>所有头的输出并排拼接：[N × H·dh]。</translation>
    </message>
    <message>
        <source>This model cannot run.</source>
        <translation>这个模型无法运行。</translation>
    </message>
    <message>
        <source>W-MSA, no shift</source>
        <translation>W-MSA，不移位</translation>
    </message>
    <message>
        <source>W_o</source>
        <translation>W_o</translation>
    </message>
    <message>
        <source>after “{seen}”: next &lt;b&gt;{best}&lt;/b&gt; ({p}); then {rest}</source>
        <translation>在“{seen}”之后：下一个是 &lt;b&gt;{best}&lt;/b&gt;（{p}）；其次 {rest}</translation>
    </message>
    <message>
        <source>attention of CLS</source>
        <translation>CLS 的注意力</translation>
    </message>
    <message>
        <source>attention of the pointed patch</source>
        <translation>所指图块的注意力</translation>
    </message>
    <message>
        <source>bias of a window</source>
        <translation>一个窗口的偏置</translation>
    </message>
    <message>
        <source>bias table head {head}</source>
        <translation>偏置表 头 {head}</translation>
    </message>
    <message>
        <source>This folder scales the positions linearly (rope_scaling linear, factor {factor}): every frequency divided by {factor}, so each pair needs {factor}× as many tokens for a turn (grey ×: before scaling).</source>
        <translation>此文件夹对位置做线性缩放（rope_scaling linear，系数 {factor}）：每个频率除以 {factor}，每对维度转一整圈需要 {factor} 倍的词元（灰色 ×：缩放前）。</translation>
    </message>
    <message>
        <source>This folder scales the frequencies as Llama 3.1 does (rope_scaling llama3, factor {factor}): pairs whose turn is longer than {long} tokens are divided by {factor}, those shorter than {short} tokens are kept, the ones between are blended (grey ×: before scaling).</source>
        <translation>此文件夹按 Llama 3.1 的方式缩放频率（rope_scaling llama3，系数 {factor}）：转一圈长于 {long} 个词元的维度对除以 {factor}，短于 {short} 个词元的保持不变，介于两者之间的平滑过渡（灰色 ×：缩放前）。</translation>
    </message>
    <message>
        <source>computing…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <source>computing {layers} layers × {heads} heads of {tokens} tokens, one head at a time…</source>
        <translation>正在计算 {layers} 层 × {heads} 头、{tokens} 个词元，一次一个头…</translation>
    </message>
    <message>
        <source>concat</source>
        <translation>拼接</translation>
    </message>
    <message>
        <source>continue greedily by</source>
        <translation>贪心续写</translation>
    </message>
    <message>
        <source>continued: </source>
        <translation>续写：</translation>
    </message>
    <message>
        <source>copied the {panel} panel as an image</source>
        <translation>已把 {panel} 面板复制为图片</translation>
    </message>
    <message>
        <source>cosine similarity of position embeddings</source>
        <translation>位置嵌入的余弦相似度</translation>
    </message>
    <message>
        <source>cosine similarity of positions</source>
        <translation>位置的余弦相似度</translation>
    </message>
    <message>
        <source>decoding step: the decoder as it was when it chose a word</source>
        <translation>解码步：解码器在选出某个词时的状态</translation>
    </message>
    <message>
        <source>dimensions to draw as curves (up to 8)</source>
        <translation>画成曲线的维度（最多 8 个）</translation>
    </message>
    <message>
        <source>discard this share of the weakest attention (ViT)</source>
        <translation>丢弃这一比例的最弱注意力（ViT）</translation>
    </message>
    <message>
        <source>discard {share}%</source>
        <translation>丢弃 {share}%</translation>
    </message>
    <message>
        <source>entropy: nats, mean over queries · distance: mean attention distance (tokens or pixels) · special: weight on CLS/&lt;bos&gt;/&lt;eos&gt; (a language model&apos;s [CLS], [SEP], &lt;s&gt;) · first: weight on the first token, the &apos;attention sink&apos; of language models</source>
        <translation>熵：单位 nat，对查询取平均 · 距离：平均注意力距离（词元或像素） · 特殊：落在 CLS/&lt;bos&gt;/&lt;eos&gt;（语言模型的 [CLS]、[SEP]、&lt;s&gt;）上的权重 · 首个：落在第一个词元上的权重，即语言模型的“注意力汇聚点”</translation>
    </message>
    <message>
        <source>first-layer filters</source>
        <translation>第一层滤波器</translation>
    </message>
    <message>
        <source>greedy decoding: the most likely token, then the most likely after it, … (0: none)</source>
        <translation>贪心解码：取最可能的词元，再取其后最可能的，…（0：不续写）</translation>
    </message>
    <message>
        <source>head out</source>
        <translation>头输出</translation>
    </message>
    <message>
        <source>head {head}</source>
        <translation>头 {head}</translation>
    </message>
    <message>
        <source>head {head} (selected)</source>
        <translation>头 {head}（已选）</translation>
    </message>
    <message>
        <source>head {head}: point at a pair of tokens</source>
        <translation>头 {head}：指向一对词元</translation>
    </message>
    <message>
        <source>how the heads of a layer are combined</source>
        <translation>一层中各头如何合并</translation>
    </message>
    <message>
        <source>largest |value|</source>
        <translation>最大 |值|</translation>
    </message>
    <message>
        <source>last-stage tokens ← stage-0 tokens</source>
        <translation>最后阶段词元 ← 第 0 阶段词元</translation>
    </message>
    <message>
        <source>learned position embedding</source>
        <translation>学习得到的位置嵌入</translation>
    </message>
    <message>
        <source>log10 weights</source>
        <translation>log10 权重</translation>
    </message>
    <message>
        <source>mask (grey: blocked)</source>
        <translation>掩码（灰色：被屏蔽）</translation>
    </message>
    <message>
        <source>mask, window {window} (grey: other region)</source>
        <translation>掩码，窗口 {window}（灰色：其他区域）</translation>
    </message>
    <message>
        <source>max</source>
        <translation>最大</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>平均</translation>
    </message>
    <message>
        <source>min</source>
        <translation>最小</translation>
    </message>
    <message>
        <source>next: {token}</source>
        <translation>下一个：{token}</translation>
    </message>
    <message>
        <source>nothing to save yet</source>
        <translation>还没有可保存的内容</translation>
    </message>
    <message>
        <source>opened {model}: in the preset box</source>
        <translation>已打开 {model}：见预设列表</translation>
    </message>
    <message>
        <source>pair ({i}, {j}): offset Δy={dy}, Δx={dx} → table row {row} → bias {bias} (head {head})</source>
        <translation>词元对 ({i}, {j})：偏移 Δy={dy}，Δx={dx} → 表中第 {row} 行 → 偏置 {bias}（头 {head}）</translation>
    </message>
    <message>
        <source>patch embedding</source>
        <translation>图块嵌入</translation>
    </message>
    <message>
        <source>patch {patch}</source>
        <translation>图块 {patch}</translation>
    </message>
    <message>
        <source>patch {patch} attends (head {head}); →CLS {value}</source>
        <translation>图块 {patch} 的注意力（头 {head}）；→CLS {value}</translation>
    </message>
    <message>
        <source>pick an odd block to see the shift</source>
        <translation>选择奇数块可以看到移位</translation>
    </message>
    <message>
        <source>point at a patch to see where it looks</source>
        <translation>指向一个图块，看它关注哪里</translation>
    </message>
    <message>
        <source>point at a token (here or in any panel)</source>
        <translation>指向一个词元（这里或任一面板中）</translation>
    </message>
    <message>
        <source>pooled</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>position {row} ({token}): BERT&apos;s guess &lt;b&gt;{best}&lt;/b&gt; ({p}); then {rest}</source>
        <translation>位置 {row}（{token}）：BERT 猜 &lt;b&gt;{best}&lt;/b&gt;（{p}）；其次 {rest}</translation>
    </message>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>q·kᵀ (raw)</source>
        <translation>q·kᵀ（原始）</translation>
    </message>
    <message>
        <source>query heads</source>
        <translation>查询头</translation>
    </message>
    <message>
        <source>K, V heads</source>
        <translation>K、V 头</translation>
    </message>
    <message>
        <source>query head {head} reads K/V head {kv}, shared by query heads {first}–{last}</source>
        <translation>查询头 {head} 读取 K/V 头 {kv}，由查询头 {first}–{last} 共用</translation>
    </message>
    <message>
        <source>K/V head {kv}</source>
        <translation>K/V 头 {kv}</translation>
    </message>
    <message>
        <source>reads K/V head {kv_head} of {kv}, shared by query heads {first}–{last} (grouped-query attention)</source>
        <translation>读取 {kv} 个 K/V 头中的第 {kv_head} 个，由查询头 {first}–{last} 共用（分组查询注意力）</translation>
    </message>
    <message>
        <source>rollout of the pooled output (what the classifier reads)&lt;br&gt;through windows, shifts and merging</source>
        <translation>池化输出的注意力展开（分类器读取的内容）&lt;br&gt;经过窗口、移位与合并</translation>
    </message>
    <message>
        <source>rollout of {who} ({fusion} fusion) over the input; CLS←CLS {value}</source>
        <translation>{who} 在输入上的注意力展开（{fusion}合并）；CLS←CLS {value}</translation>
    </message>
    <message>
        <source>rollout over {blocks} blocks</source>
        <translation>跨 {blocks} 个块的注意力展开</translation>
    </message>
    <message>
        <source>rows {first}–{last}</source>
        <translation>第 {first}–{last} 行</translation>
    </message>
    <message>
        <source>rows {first}–{last}, columns {left}–{right} · right-click: all</source>
        <translation>第 {first}–{last} 行，第 {left}–{right} 列 · 右键：全部</translation>
    </message>
    <message>
        <source>sample inputs</source>
        <translation>样例输入</translation>
    </message>
    <message>
        <source>scale</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>scores</source>
        <translation>分数</translation>
    </message>
    <message>
        <source>sinusoidal PE</source>
        <translation>正弦位置编码</translation>
    </message>
    <message>
        <source>softmax</source>
        <translation>softmax</translation>
    </message>
    <message>
        <source>stage {stage}</source>
        <translation>阶段 {stage}</translation>
    </message>
    <message>
        <source>step-through speed</source>
        <translation>逐步播放速度</translation>
    </message>
    <message>
        <source>sum: the decoder&apos;s input</source>
        <translation>和：解码器的输入</translation>
    </message>
    <message>
        <source>sum: the encoder&apos;s input</source>
        <translation>和：编码器的输入</translation>
    </message>
    <message>
        <source>switched off by an intervention: the model adds nothing</source>
        <translation>已被干预关闭：模型不加任何偏置</translation>
    </message>
    <message>
        <source>the overview failed: {reason}</source>
        <translation>总览失败：{reason}</translation>
    </message>
    <message>
        <source>the sequence: patch 0, 1, 2, … (row-major), wrapped</source>
        <translation>序列：图块 0、1、2、…（按行排列），折行显示</translation>
    </message>
    <message>
        <source>token</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>token embedding ×√d</source>
        <translation>词元嵌入 ×√d</translation>
    </message>
    <message>
        <source>token {y},{x} · window {window} · head {head}</source>
        <translation>词元 {y},{x} · 窗口 {window} · 头 {head}</translation>
    </message>
    <message>
        <source>top-5 guesses for this position</source>
        <translation>此位置的前 5 个猜测</translation>
    </message>
    <message>
        <source>top-5 next tokens</source>
        <translation>下一个词元的前 5 个候选</translation>
    </message>
    <message>
        <source>untrained: random weights (--untrained) — what the model does before training</source>
        <translation>未训练：随机权重（--untrained）— 模型在训练之前的表现</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>weights, window {window}, head {head}</source>
        <translation>权重，窗口 {window}，头 {head}</translation>
    </message>
    <message>
        <source>window {window}</source>
        <translation>窗口 {window}</translation>
    </message>
    <message>
        <source>zoom in (wheel) for cells</source>
        <translation>放大（滚轮）可看到单元格</translation>
    </message>
    <message>
        <source>{layers} layers × {heads} heads of &apos;{kind}&apos; attention — each thumbnail scaled to its maximum (larger matrices: the maximum of each block); click one to select it everywhere</source>
        <translation>&apos;{kind}&apos; 注意力的 {layers} 层 × {heads} 头 — 每个缩略图按自身最大值缩放（较大的矩阵：每块取最大值）；点击一个即在所有面板中选中它</translation>
    </message>
    <message>
        <source>{n} tokens: the {top} strongest keys of each query; point at a query for all its links</source>
        <translation>{n} 个词元：每个查询只画最强的 {top} 个键；指向一个查询可看到它的全部连线</translation>
    </message>
    <message>
        <source>{res}×{res} tokens, {ws}×{ws}-token windows, {n} windows</source>
        <translation>{res}×{res} 个词元，{ws}×{ws} 词元的窗口，共 {n} 个窗口</translation>
    </message>
    <message>
        <source>{site} head {head}: query {i} ({query}) · key {j} ({key}) moved to every offset</source>
        <translation>{site} 头 {head}：查询 {i}（{query}）· 键 {j}（{key}）移到每个偏移处</translation>
    </message>
    <message>
        <source>{who} attends (head {head}); {who}→CLS {value}</source>
        <translation>{who} 的注意力（头 {head}）；{who}→CLS {value}</translation>
    </message>
    <message>
        <source>· V</source>
        <translation>· V</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>entropy</source>
        <translation>熵</translation>
    </message>
    <message>
        <source>distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>special</source>
        <translation>特殊</translation>
    </message>
    <message>
        <source>first</source>
        <translation>首个</translation>
    </message>
    <message>
        <source>bias</source>
        <translation>偏置</translation>
    </message>
    <message>
        <source>proj</source>
        <translation>投影</translation>
    </message>
    <message>
        <source>encoder self-attention</source>
        <translation>编码器自注意力</translation>
    </message>
    <message>
        <source>cross-attention</source>
        <translation>交叉注意力</translation>
    </message>
    <message>
        <source>decoder masked self-attention</source>
        <translation>解码器掩码自注意力</translation>
    </message>
    <message>
        <source>self-attention</source>
        <translation>自注意力</translation>
    </message>
    <message>
        <source>masked (causal) self-attention</source>
        <translation>掩码（因果）自注意力</translation>
    </message>
    <message>
        <source>bidirectional self-attention</source>
        <translation>双向自注意力</translation>
    </message>
    <message>
        <source>SW-MSA (shifted windows)</source>
        <translation>SW-MSA（移位窗口）</translation>
    </message>
    <message>
        <source>W-MSA (windows)</source>
        <translation>W-MSA（窗口）</translation>
    </message>
    <message>
        <source>{names} is token 0, before patch 0</source>
        <translation>{names} 是第 0 个词元，在图块 0 之前</translation>
    </message>
    <message>
        <source>{names} are tokens 0–{last}, before patch 0</source>
        <translation>{names} 是第 0–{last} 个词元，在图块 0 之前</translation>
    </message>
    <message>
        <source>{g}×{g} patches of {size}×{size} px</source>
        <translation>{g}×{g} 个图块，每块 {size}×{size} 像素</translation>
    </message>
    <message>
        <source>no CLS token: Swin pools all tokens at the end</source>
        <translation>没有 CLS 词元：Swin 在最后对所有词元做池化</translation>
    </message>
    <message>
        <source>cos(position · θ_i)</source>
        <translation>cos(位置 · θ_i)</translation>
    </message>
    <message>
        <source>dimension pair i</source>
        <translation>维度对 i</translation>
    </message>
    <message>
        <source>log₁₀ tokens per full turn</source>
        <translation>转一整圈所需词元数（log₁₀）</translation>
    </message>
    <message>
        <source>offset i − j (tokens)</source>
        <translation>偏移 i − j（词元）</translation>
    </message>
    <message>
        <source>score</source>
        <translation>分数</translation>
    </message>
    <message>
        <source>unknown words (read as &lt;unk&gt;): </source>
        <translation>未知词（按 &lt;unk&gt; 读入）：</translation>
    </message>
    <message>
        <source>the last input of {preset} was refused ({reason}): its sample instead</source>
        <translation>{preset} 的上一个输入被拒绝（{reason}）：改用它的样例</translation>
    </message>
    <message>
        <source>untrained (random weights)</source>
        <translation>未训练（随机权重）</translation>
    </message>
    <message>
        <source>Save trace</source>
        <translation>保存追踪数据</translation>
    </message>
    <message>
        <source>Traces (*.npz)</source>
        <translation>追踪数据 (*.npz)</translation>
    </message>
    <message>
        <source>saving the trace to {path}…</source>
        <translation>正在把追踪数据保存到 {path}…</translation>
    </message>
    <message>
        <source>opening {path}…</source>
        <translation>正在打开 {path}…</translation>
    </message>
    <message>
        <source>Save session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <source>Sessions (*.json)</source>
        <translation>会话 (*.json)</translation>
    </message>
    <message>
        <source>Open session</source>
        <translation>打开会话</translation>
    </message>
    <message>
        <source>Sessions (*.json);;All files (*)</source>
        <translation>会话 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>could not save the session: {reason}</source>
        <translation>无法保存会话：{reason}</translation>
    </message>
    <message>
        <source>saved the session to {path}</source>
        <translation>会话已保存到 {path}</translation>
    </message>
    <message>
        <source>tour step {step}: {reason}</source>
        <translation>导览第 {step} 步：{reason}</translation>
    </message>
    <message>
        <source>Logit lens</source>
        <translation>logit 透镜</translation>
    </message>
    <message>
        <source>the prediction by layer</source>
        <translation>逐层的预测</translation>
    </message>
    <message>
        <source>who wrote it (direct logit attribution)</source>
        <translation>是谁写下的（直接 logit 归因）</translation>
    </message>
    <message>
        <source>point</source>
        <translation>位置点</translation>
    </message>
    <message>
        <source>rank</source>
        <translation>名次</translation>
    </message>
    <message>
        <source>part</source>
        <translation>部分</translation>
    </message>
    <message>
        <source>logit</source>
        <translation>logit 值</translation>
    </message>
    <message>
        <source>the logit lens needs the model that made this trace</source>
        <translation>logit 透镜需要生成此记录的模型</translation>
    </message>
    <message>
        <source>reading the stream at every layer…</source>
        <translation>正在读取每一层的残差流…</translation>
    </message>
    <message>
        <source>the classifier&apos;s read-out</source>
        <translation>分类器的读出</translation>
    </message>
    <message>
        <source>{target} at position {position}, by layer</source>
        <translation>位置 {position} 上的 {target}，逐层</translation>
    </message>
    <message>
        <source>the model&apos;s read-out at every point of its residual stream; colour: the probability of each position&apos;s prediction</source>
        <translation>模型在残差流每个位置点上的读出；颜色：每个位置最终预测的概率</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>stop this run after its current step: the result on screen stays</source>
        <translation>在当前这一步之后停止本次运行：屏幕上的结果保留</translation>
    </message>
    <message>
        <source>forward pass: block {done} of {total}</source>
        <translation>前向计算：第 {done} 层，共 {total} 层</translation>
    </message>
    <message>
        <source>generating: token {done} of {total}</source>
        <translation>生成中：第 {done} 个 token，共 {total} 个</translation>
    </message>
    <message>
        <source>stopped: the result on screen is the last one finished</source>
        <translation>已停止：屏幕上是最后一次完成的结果</translation>
    </message>
    <message>
        <source>chat turn</source>
        <translation>对话轮次</translation>
    </message>
    <message>
        <source>hide template tokens</source>
        <translation>隐藏模板 token</translation>
    </message>
    <message>
        <source>hide the rows of the tokens the chat template added (they stay in the model&apos;s input)</source>
        <translation>隐藏对话模板添加的 token 所在的行（它们仍在模型的输入中）</translation>
    </message>
    <message>
        <source>the input as one user message with the assistant&apos;s turn to follow, in the folder&apos;s chat template; the template&apos;s tokens are marked</source>
        <translation>把输入作为一条用户消息、其后接助手的轮次，用文件夹的对话模板包装；模板的 token 会被标出</translation>
    </message>
    <message>
        <source>no chat template: {why}</source>
        <translation>没有对话模板：{why}</translation>
    </message>
    <message>
        <source>{device} · forward {forward} ms · redraw {redraw} ms</source>
        <translation>{device} · 前向 {forward} 毫秒 · 重绘 {redraw} 毫秒</translation>
    </message>
    <message>
        <source>{layers} layers × {heads} heads of {kind} — each thumbnail scaled to its maximum (larger matrices: the maximum of each block); click one to select it everywhere</source>
        <translation>{kind}的 {layers} 层 × {heads} 头 — 每个缩略图按自身最大值缩放（较大的矩阵：每块取最大值）；点击一个即在所有面板中选中它</translation>
    </message>
    <message>
        <source>sliding-window causal self-attention</source>
        <translation>滑动窗口因果自注意力</translation>
    </message>
    <message>
        <source>self (sliding window)</source>
        <translation>自注意力（滑动窗口）</translation>
    </message>
    <message>
        <source>Add the mask M: -inf where a query may not look: a later word, or one {window} or more tokens back (a sliding window: each token sees itself and the {before} before it).</source>
        <translation>加上掩码 M：查询不可看的位置为 -inf：后面的词，或往前 {window} 个及更远的词元（滑动窗口：每个词元只看见自己和它前面的 {before} 个）。</translation>
    </message>
    <message>
        <source>This layer attends within a sliding window: a query sees only the {window} latest tokens (itself included); the mask hides the rest, whatever the rotation says.</source>
        <translation>这一层在滑动窗口内注意：查询只看见最近的 {window} 个词元（包括自己）；其余的被掩码遮住，与旋转无关。</translation>
    </message>
    <message>
        <source>Its rotation has its own base, the local layers&apos; (the curves above are this layer&apos;s).</source>
        <translation>它的旋转有自己的底数，即局部层的底数（上面的曲线是这一层的）。</translation>
    </message>
    <message>
        <source>the weights are computed in {dtype}, as they are stored (--dtype, the Device menu)</source>
        <translation>权重按存储的 {dtype} 计算（--dtype，“设备”菜单）</translation>
    </message>
    <message>
        <source>{stored} weights computed in {computed}</source>
        <translation>{stored} 权重以 {computed} 计算</translation>
    </message>
    <message>
        <source>Then each head&apos;s q and k are normalised (RMSNorm over its dh numbers, times a learned weight) before the rotation: Q and Kᵀ here are after the norm.</source>
        <translation>然后每个头的 q 和 k 在旋转之前先被归一化（对它的 dh 个数做 RMSNorm，再乘以学到的权重）：这里的 Q 和 Kᵀ 是归一化之后的。</translation>
    </message>
    <message>
        <source>recording the residual stream…</source>
        <translation>正在记录残差流…</translation>
    </message>
    <message>
        <source>target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>minus</source>
        <translation>减去</translation>
    </message>
    <message>
        <source>nothing</source>
        <translation>无</translation>
    </message>
    <message>
        <source>each head&apos;s direct logit attribution to {target}</source>
        <translation>每个头对 {target} 的直接逻辑归因</translation>
    </message>
    <message>
        <source>each head&apos;s direct logit attribution to {target} − {minus}</source>
        <translation>每个头对 {target} − {minus} 的直接逻辑归因</translation>
    </message>
    <message>
        <source>role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>sort by role</source>
        <translation>按角色排序</translation>
    </message>
    <message>
        <source>roles, on the thumbnails: I induction · P previous token · D duplicate token · F first token · C class token · L local (a score of 0.4 or more)</source>
        <translation>缩略图上的角色：I 归纳 · P 前一词元 · D 重复词元 · F 首词元 · C 类别词元 · L 局部（得分 0.4 及以上）</translation>
    </message>
    <message>
        <source>induction</source>
        <translation>归纳</translation>
    </message>
    <message>
        <source>previous token</source>
        <translation>前一词元</translation>
    </message>
    <message>
        <source>duplicate token</source>
        <translation>重复词元</translation>
    </message>
    <message>
        <source>first token</source>
        <translation>首词元</translation>
    </message>
    <message>
        <source>class token</source>
        <translation>类别词元</translation>
    </message>
    <message>
        <source>local</source>
        <translation>局部</translation>
    </message>
    <message>
        <source>reading the stream at the other layers…</source>
        <translation>正在读取其余各层的残差流…</translation>
    </message>
    <message>
        <source>Corpus</source>
        <translation>语料</translation>
    </message>
    <message>
        <source>Open &amp;corpus result…</source>
        <translation>打开语料结果(&amp;C)…</translation>
    </message>
    <message>
        <source>Open corpus result</source>
        <translation>打开语料结果</translation>
    </message>
    <message>
        <source>statistic:</source>
        <translation>统计量：</translation>
    </message>
    <message>
        <source>colour:</source>
        <translation>颜色：</translation>
    </message>
    <message>
        <source>projection:</source>
        <translation>投影：</translation>
    </message>
    <message>
        <source>query or key</source>
        <translation>查询或键</translation>
    </message>
    <message>
        <source>PCA</source>
        <translation>PCA</translation>
    </message>
    <message>
        <source>UMAP</source>
        <translation>UMAP</translation>
    </message>
    <message>
        <source>query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>inputs</source>
        <translation>输入数</translation>
    </message>
    <message>
        <source>colour: green queries, pink keys</source>
        <translation>颜色：绿色为查询，粉色为键</translation>
    </message>
    <message>
        <source>colour: position (dark: first, bright: last)</source>
        <translation>颜色：位置（深：靠前，亮：靠后）</translation>
    </message>
    <message>
        <source>colour: the {n} most frequent tokens; grey: the others</source>
        <translation>颜色：最常见的 {n} 个词元；灰色：其余</translation>
    </message>
    <message>
        <source>computing UMAP (seconds to minutes)…</source>
        <translation>正在计算 UMAP（几秒到几分钟）…</translation>
    </message>
    <message>
        <source>computing the embedding…</source>
        <translation>正在计算嵌入…</translation>
    </message>
    <message>
        <source>layer {row}, head {head} ({site}): {queries} queries and {keys} keys by {method}; keys scaled and moved onto the queries as AttentionViz does · {how}</source>
        <translation>第 {row} 层，头 {head}（{site}）：{queries} 个查询和 {keys} 个键，用 {method} 投影；键按 AttentionViz 的做法缩放并平移到查询上 · {how}</translation>
    </message>
    <message>
        <source>input {input} is not in the corpus result&apos;s inputs</source>
        <translation>输入 {input} 不在语料结果的输入中</translation>
    </message>
    <message>
        <source>mean {mean} (red line)</source>
        <translation>均值 {mean}（红线）</translation>
    </message>
    <message>
        <source>mean {statistic} by layer and head: {lo} (dark) to {hi} (bright); click a head</source>
        <translation>各层各头的{statistic}均值：{lo}（深）到 {hi}（亮）；点击一个头</translation>
    </message>
    <message>
        <source>needs umap-learn (pip install umap-learn)</source>
        <translation>需要 umap-learn（pip install umap-learn）</translation>
    </message>
    <message>
        <source>no corpus result open: File ▸ Open corpus result…, a folder written by `python main.py corpus`</source>
        <translation>没有打开语料结果：文件 ▸ 打开语料结果…，即 `python main.py corpus` 写出的文件夹</translation>
    </message>
    <message>
        <source>point at a query or key: its input and token; click: open that input</source>
        <translation>指向一个查询或键：显示它的输入和词元；点击：打开那个输入</translation>
    </message>
    <message>
        <source>this corpus result is of {model}: open that model to run its inputs live</source>
        <translation>这个语料结果来自 {model}：请先打开那个模型，才能实时运行它的输入</translation>
    </message>
    <message>
        <source>{folder} is not a corpus result: it has no meta.json</source>
        <translation>{folder} 不是语料结果：没有 meta.json</translation>
    </message>
    <message>
        <source>{folder} is not a corpus result: meta.json&apos;s format is not {format}</source>
        <translation>{folder} 不是语料结果：meta.json 的格式不是 {format}</translation>
    </message>
    <message>
        <source>{folder}: a corpus result needs heads/ and inputs/ with part-*.parquet files</source>
        <translation>{folder}：语料结果需要含 part-*.parquet 文件的 heads/ 和 inputs/</translation>
    </message>
    <message>
        <source>{folder}: a file cannot be read ({reason})</source>
        <translation>{folder}：有文件无法读取（{reason}）</translation>
    </message>
    <message>
        <source>{folder}: corpus result version {version} is not one this app reads ({known})</source>
        <translation>{folder}：本应用不能读取语料结果版本 {version}（可读：{known}）</translation>
    </message>
    <message>
        <source>{folder}: meta.json cannot be read ({reason})</source>
        <translation>{folder}：无法读取 meta.json（{reason}）</translation>
    </message>
    <message>
        <source>{folder}: meta.json has no layers or statistics</source>
        <translation>{folder}：meta.json 中没有层或统计量</translation>
    </message>
    <message>
        <source>{inputs} inputs of {model} ({source}) · {folder}</source>
        <translation>{model} 的 {inputs} 个输入（{source}）· {folder}</translation>
    </message>
    <message>
        <source>{role} · token {token} at {position} · input {input}: {text}</source>
        <translation>{role} · 位置 {position} 的词元 {token} · 输入 {input}：{text}</translation>
    </message>
    <message>
        <source>{statistic} of layer {row}, head {head} ({site}) across {n} inputs</source>
        <translation>第 {row} 层，头 {head}（{site}）在 {n} 个输入上的{statistic}</translation>
    </message>
    <message>
        <source>input {input}&apos;s image {path} is not there: it cannot run live</source>
        <translation>输入 {input} 的图片 {path} 不在了：无法实时运行</translation>
    </message>
    <message>
        <source>Input B:</source>
        <translation>输入 B：</translation>
    </message>
    <message>
        <source>A with one word changed</source>
        <translation>A 改一个词</translation>
    </message>
    <message>
        <source>B becomes A with one word replaced by another word the model knows</source>
        <translation>B 变为 A，其中一个词换成模型认识的另一个词</translation>
    </message>
    <message>
        <source>Panels show:</source>
        <translation>面板显示：</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>compare mode: a second input B beside A; the panels show A, B or A − B</source>
        <translation>对比模式：在 A 旁边加第二个输入 B；面板显示 A、B 或 A − B</translation>
    </message>
    <message>
        <source>top 5 of A: probability in A → in B (change)</source>
        <translation>A 的前 5 名：在 A 中的概率 → 在 B 中的概率（变化）</translation>
    </message>
    <message>
        <source>A has {a} positions, B has {b}: A − B needs the same count — showing A</source>
        <translation>A 有 {a} 个位置，B 有 {b} 个：A − B 需要相同的数量——显示 A</translation>
    </message>
    <message>
        <source>input B was refused: {reason}</source>
        <translation>输入 B 被拒绝：{reason}</translation>
    </message>
    <message>
        <source>Patching</source>
        <translation>激活修补</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Sweep</source>
        <translation>扫描</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>metric: logit of</source>
        <translation>指标：logit</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>clean answer</source>
        <translation>干净运行的答案</translation>
    </message>
    <message>
        <source>corrupted answer</source>
        <translation>损坏运行的答案</translation>
    </message>
    <message>
        <source>the metric is logit(this) − logit(the other): one token; empty: the clean run&apos;s prediction</source>
        <translation>指标为 logit(此项) − logit(另一项)：一个 token；留空：干净运行的预测</translation>
    </message>
    <message>
        <source>one token; empty: the corrupted run&apos;s prediction</source>
        <translation>一个 token；留空：损坏运行的预测</translation>
    </message>
    <message>
        <source>the last results: choose one to see it again</source>
        <translation>最近的结果：选择一个再次查看</translation>
    </message>
    <message>
        <source>residual stream (layer × position)</source>
        <translation>残差流（层 × 位置）</translation>
    </message>
    <message>
        <source>attention outputs (layer × position)</source>
        <translation>注意力输出（层 × 位置）</translation>
    </message>
    <message>
        <source>MLP outputs (layer × position)</source>
        <translation>MLP 输出（层 × 位置）</translation>
    </message>
    <message>
        <source>heads (every position)</source>
        <translation>注意力头（所有位置）</translation>
    </message>
    <message>
        <source>heads × position</source>
        <translation>注意力头 × 位置</translation>
    </message>
    <message>
        <source>rows: layer</source>
        <translation>行：层</translation>
    </message>
    <message>
        <source>columns: position</source>
        <translation>列：位置</translation>
    </message>
    <message>
        <source>columns: head</source>
        <translation>列：注意力头</translation>
    </message>
    <message>
        <source>rows: layer and head</source>
        <translation>行：层与注意力头</translation>
    </message>
    <message>
        <source>Patching needs two inputs: turn on Compare (clean = A, corrupted = B).</source>
        <translation>激活修补需要两个输入：请打开“对比”（干净 = A，损坏 = B）。</translation>
    </message>
    <message>
        <source>Input B has not run yet.</source>
        <translation>输入 B 尚未运行。</translation>
    </message>
    <message>
        <source>A has {a} tokens and B has {b}: patching needs the same count in both.</source>
        <translation>A 有 {a} 个 token，B 有 {b} 个：激活修补需要两者数量相同。</translation>
    </message>
    <message>
        <source>clean = A, corrupted = B. Each cell patches one activation from the clean run into the corrupted one: 1 = the clean answer back, 0 = no change. Click a cell to see that patched run in every panel.</source>
        <translation>干净 = A，损坏 = B。每个格子把干净运行中的一个激活修补进损坏运行：1 = 恢复干净运行的答案，0 = 没有变化。点击格子，可在每个面板中查看该修补运行。</translation>
    </message>
    <message>
        <source>overtaken by a new input: the sweep stopped</source>
        <translation>被新的输入取代：扫描已停止</translation>
    </message>
    <message>
        <source>this result is of other inputs or another model: sweep again to see its patched runs</source>
        <translation>这个结果属于别的输入或别的模型：请重新扫描，才能查看其中的修补运行</translation>
    </message>
    <message>
        <source>patched runs: {done} of {total}</source>
        <translation>修补运行：第 {done} 个，共 {total} 个</translation>
    </message>
    <message>
        <source>{sweep}: logit({a}) − logit({b}), clean {clean:.3g}, corrupted {corrupt:.3g}</source>
        <translation>{sweep}：logit({a}) − logit({b})，干净 {clean:.3g}，损坏 {corrupt:.3g}</translation>
    </message>
    <message>
        <source>position {position}</source>
        <translation>位置 {position}</translation>
    </message>
    <message>
        <source>patched run: input B, with {where} taken from A&apos;s run</source>
        <translation>修补运行：输入 B，其中 {where} 取自 A 的运行</translation>
    </message>
    <message>
        <source>score {score:.2f} (1 = A&apos;s answer back)</source>
        <translation>得分 {score:.2f}（1 = 恢复 A 的答案）</translation>
    </message>
    <message>
        <source>Back to the unpatched runs</source>
        <translation>回到未修补的运行</translation>
    </message>
    <message>
        <source>Q, K before their norm</source>
        <translation>归一化之前的 Q、K</translation>
    </message>
    <message>
        <source>this model normalises each head&apos;s q and k (RMSNorm) before the rotation: tick to see them as the projections gave them</source>
        <translation>该模型在旋转之前对每个头的 q 和 k 做归一化（RMSNorm）：勾选后显示投影直接给出的 q 和 k</translation>
    </message>
    <message>
        <source>{matrix} before norm</source>
        <translation>归一化之前的 {matrix}</translation>
    </message>
    <message>
        <source>&amp;Device</source>
        <translation>设备(&amp;D)</translation>
    </message>
    <message>
        <source>Compute in float32</source>
        <translation>用 float32 计算</translation>
    </message>
    <message>
        <source>Keep bfloat16 weights in bfloat16</source>
        <translation>bfloat16 权重保持 bfloat16</translation>
    </message>
    <message>
        <source>Keep float16 weights in float16</source>
        <translation>float16 权重保持 float16</translation>
    </message>
    <message>
        <source>weights stored in bfloat16 or float16 are computed in float32 (the default)</source>
        <translation>以 bfloat16 或 float16 存储的权重用 float32 计算（默认）</translation>
    </message>
    <message>
        <source>weights stored in bfloat16 are computed in bfloat16, as --dtype bfloat16 does (half the memory; others stay in float32)</source>
        <translation>以 bfloat16 存储的权重用 bfloat16 计算，与 --dtype bfloat16 相同（内存减半；其他权重仍用 float32）</translation>
    </message>
    <message>
        <source>weights stored in float16 are computed in float16, as --dtype float16 does (half the memory; others stay in float32)</source>
        <translation>以 float16 存储的权重用 float16 计算，与 --dtype float16 相同（内存减半；其他权重仍用 float32）</translation>
    </message>
    <message>
        <source>cannot compute in {dtype} on {device}: {why}</source>
        <translation>在 {device} 上不能用 {dtype} 计算：{why}</translation>
    </message>
    <message>
        <source>Weights of the model shown: {dtype}</source>
        <translation>当前模型的权重：{dtype}</translation>
    </message>
    <message>
        <source>Still computing in {dtype}: {reason}</source>
        <translation>仍用 {dtype} 计算：{reason}</translation>
    </message>
    <message>
        <source>{model}: its weights are stored in {stored}, so it computes in float32 ({dtype} keeps only weights stored in {dtype})</source>
        <translation>{model}：它的权重以 {stored} 存储，所以用 float32 计算（{dtype} 只保持以 {dtype} 存储的权重）</translation>
    </message>
    <message>
        <source>path: each earlier head into one head&apos;s q, k or v</source>
        <translation>路径：每个更早的头进入一个头的 q、k 或 v</translation>
    </message>
    <message>
        <source>rows: sender layer</source>
        <translation>行：发送者所在层</translation>
    </message>
    <message>
        <source>columns: sender head</source>
        <translation>列：发送者头</translation>
    </message>
    <message>
        <source>into head</source>
        <translation>进入头</translation>
    </message>
    <message>
        <source>the receiver: the head whose queries, keys or values get each earlier head&apos;s clean output</source>
        <translation>接收者：其查询、键或值接收每个更早的头的干净输出的那个头</translation>
    </message>
    <message>
        <source>This model has no head after another one: nothing to patch a path into.</source>
        <translation>这个模型中没有位于另一个头之后的头：没有可以修补路径的目标。</translation>
    </message>
    <message>
        <source>{n} heads off</source>
        <translation>关闭了 {n} 个头</translation>
    </message>
    <message>
        <source>into {site} head {head}&apos;s {part}</source>
        <translation>进入 {site} 头 {head} 的 {part}</translation>
    </message>
    <message>
        <source>with {n} heads off, as the window&apos;s run</source>
        <translation>关闭了 {n} 个头，与窗口的运行相同</translation>
    </message>
    <message>
        <source>A − B: {layers} layers × {heads} heads of {kind}, one scale for all — red: A higher, blue: B higher, full colour at ±{peak:.3g} (larger matrices: the largest difference of each block); the table: A&apos;s figure minus B&apos;s, the roles A&apos;s</source>
        <translation>A − B：{kind} 的 {layers} 层 × {heads} 个头，共用一个色标 — 红：A 更高，蓝：B 更高，±{peak:.3g} 处为满色（较大的矩阵：每块中差值最大者）；表格：A 的数值减去 B 的，角色为 A 的</translation>
    </message>
    <message>
        <source>A − B is not shown here: a lens&apos;s top tokens and probabilities do not subtract — this is A&apos;s run. </source>
        <translation>这里不显示 A − B：透镜的最可能词元和概率不能相减 — 这是 A 的运行。</translation>
    </message>
    <message>
        <source>A − B is not drawn here (a line&apos;s width or a heat cannot be negative): these are A&apos;s weights; the Attention tab shows A − B.</source>
        <translation>这里不绘制 A − B（线宽或热度不能为负）：这些是 A 的权重；注意力标签页显示 A − B。</translation>
    </message>
    <message>
        <source>UMAP (needs umap-learn)</source>
        <translation>UMAP（需要 umap-learn）</translation>
    </message>
    <message>
        <source>{seconds} s</source>
        <translation>{seconds} 秒</translation>
    </message>
    <message>
        <source>UMAP cancelled: nothing drawn yet</source>
        <translation>UMAP 已取消：尚未绘制任何嵌入</translation>
    </message>
    <message>
        <source>UMAP cancelled; shown, the embedding before:</source>
        <translation>UMAP 已取消；显示的是之前的嵌入：</translation>
    </message>
    <message>
        <source>the session&apos;s corpus result was not opened: {reason}</source>
        <translation>会话中的语料结果未能打开：{reason}</translation>
    </message>
    <message>
        <source>path-patched run: input B, with A&apos;s {site} head {head} → {receiver} head {receiver_head}&apos;s {part} (no other head reads it)</source>
        <translation>路径修补运行：输入 B，其中 A 的 {site} 头 {head} → {receiver} 头 {receiver_head} 的{part}（其他头都读不到它）</translation>
    </message>
    <message>
        <source>queries</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>keys</source>
        <translation>键</translation>
    </message>
    <message>
        <source>values</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>models</name>
    <message>
        <source>CUDA is not available here (no NVIDIA GPU or a CPU-only torch build)</source>
        <translation>这里无法使用 CUDA（没有 NVIDIA GPU，或 torch 是仅 CPU 的版本）</translation>
    </message>
    <message>
        <source>MPS is not available here (it needs Apple silicon and macOS)</source>
        <translation>这里无法使用 MPS（需要 Apple 芯片和 macOS）</translation>
    </message>
    <message>
        <source>no device named: choose cpu, cuda, mps or auto</source>
        <translation>没有指定设备：请选择 cpu、cuda、mps 或 auto</translation>
    </message>
    <message>
        <source>untrained means random weights: it does not go with a weights file</source>
        <translation>未训练即随机权重：不能与权重文件同时使用</translation>
    </message>
    <message>
        <source>the bottleneck is a seq2seq intervention: this model has no decoder</source>
        <translation>瓶颈是 seq2seq 的干预：这个模型没有解码器</translation>
    </message>
    <message>
        <source>the input is empty: type a sentence</source>
        <translation>输入为空：请输入一个句子</translation>
    </message>
    <message>
        <source>the input is empty: type some characters</source>
        <translation>输入为空：请输入一些字符</translation>
    </message>
    <message>
        <source>the image is empty (0 pixels)</source>
        <translation>图片为空（0 像素）</translation>
    </message>
    <message>
        <source>untrained: random weights (--untrained), not the trained model</source>
        <translation>未训练：随机权重（--untrained），不是训练好的模型</translation>
    </message>
    <message>
        <source>the GPU ran out of memory: running on CPU</source>
        <translation>GPU 内存不足：改用 CPU 运行</translation>
    </message>
    <message>
        <source>the input has {n} tokens; this model takes at most {limit}</source>
        <translation>输入有 {n} 个词元；这个模型最多接受 {limit} 个</translation>
    </message>
    <message>
        <source>the input has {n} tokens plus {extra} to generate; this model takes at most {limit}</source>
        <translation>输入有 {n} 个词元，另加续写 {extra} 个；这个模型最多接受 {limit} 个</translation>
    </message>
    <message>
        <source>the input has {n} tokens; this model takes at most {limit} ({note})</source>
        <translation>输入有 {n} 个词元；这个模型最多接受 {limit} 个（{note}）</translation>
    </message>
    <message>
        <source>the input has {n} tokens plus {extra} to generate; this model takes at most {limit} ({note})</source>
        <translation>输入有 {n} 个词元，另加续写 {extra} 个；这个模型最多接受 {limit} 个（{note}）</translation>
    </message>
    <message>
        <source>unknown device &apos;{name}&apos; (choose cpu, cuda, mps or auto)</source>
        <translation>未知设备 &apos;{name}&apos;（请选择 cpu、cuda、mps 或 auto）</translation>
    </message>
    <message>
        <source>unknown preset &apos;{name}&apos; (choose from: {names})</source>
        <translation>未知预设 &apos;{name}&apos;（可选：{names}）</translation>
    </message>
    <message>
        <source>no such image file: {path}</source>
        <translation>没有这个图片文件：{path}</translation>
    </message>
    <message>
        <source>{name} is not a readable image ({error})</source>
        <translation>{name} 不是可读取的图片（{error}）</translation>
    </message>
    <message>
        <source>{name} is too large (over {limit:,} pixels)</source>
        <translation>{name} 太大（超过 {limit:,} 像素）</translation>
    </message>
    <message>
        <source>{name} is too large: {width}×{height} is over {limit:,} pixels</source>
        <translation>{name} 太大：{width}×{height} 超过 {limit:,} 像素</translation>
    </message>
    <message>
        <source>an image array must be 2-D or 3-D, got shape {shape}</source>
        <translation>图片数组必须是二维或三维的，收到的形状是 {shape}</translation>
    </message>
    <message>
        <source>not among this model&apos;s {count} words: {listed} (the list: resources/data/{file})</source>
        <translation>不在这个模型的 {count} 个词中：{listed}（词表：resources/data/{file}）</translation>
    </message>
    <message>
        <source>generate {extra} tokens? choose 0 to {most}</source>
        <translation>生成 {extra} 个词元？请选择 0 到 {most}</translation>
    </message>
    <message>
        <source>no head {head} at &apos;{site}&apos;</source>
        <translation>&apos;{site}&apos; 处没有头 {head}</translation>
    </message>
    <message>
        <source>no MLP at &apos;{point}&apos;</source>
        <translation>&apos;{point}&apos; 处没有 MLP</translation>
    </message>
    <message>
        <source>a decoder head is replaced by its mean over every output position, so each row also reads the words after it; the output was decoded word by word</source>
        <translation>一个解码器头被换成它在所有输出位置上的平均，所以每一行也读到它后面的词；输出是逐词解码得到的</translation>
    </message>
    <message>
        <source>the tokenizer gave id {id}, but the model has only {size} embeddings</source>
        <translation>分词器给出了编号 {id}，但模型只有 {size} 个嵌入</translation>
    </message>
    <message>
        <source>the checkpoint&apos;s preprocessing gives {width}×{height} pixels, but the model takes {side}×{side}</source>
        <translation>检查点的预处理给出 {width}×{height} 像素，但模型接受 {side}×{side}</translation>
    </message>
    <message>
        <source>{file} is not a Transformer Explorer session</source>
        <translation>{file} 不是 Transformer Explorer 的会话文件</translation>
    </message>
    <message>
        <source>{file} has no valid version number</source>
        <translation>{file} 没有有效的版本号</translation>
    </message>
    <message>
        <source>{file} was saved by a newer Transformer Explorer (session version {value}; this one reads up to {newest})</source>
        <translation>{file} 由更新版本的 Transformer Explorer 保存（会话版本 {value}；这个版本最多读取到 {newest}）</translation>
    </message>
    <message>
        <source>{file}: &apos;model&apos; must name a folder (source) and, for a timm file, its variant (arch)</source>
        <translation>{file}：&apos;model&apos; 必须指明一个文件夹（source），timm 文件还须指明其变体（arch）</translation>
    </message>
    <message>
        <source>{file}: &apos;preset&apos; must be a preset&apos;s name</source>
        <translation>{file}：&apos;preset&apos; 必须是一个预设的名称</translation>
    </message>
    <message>
        <source>{file}: &apos;device&apos; must be one of {choices}</source>
        <translation>{file}：&apos;device&apos; 必须是 {choices} 之一</translation>
    </message>
    <message>
        <source>{file}: &apos;input&apos; must hold a text or an embedded image</source>
        <translation>{file}：&apos;input&apos; 必须包含文本或内嵌图片</translation>
    </message>
    <message>
        <source>{file}: &apos;selection&apos; must be an object</source>
        <translation>{file}：&apos;selection&apos; 必须是一个对象</translation>
    </message>
    <message>
        <source>{file}: selection &apos;site&apos; must be a site&apos;s name</source>
        <translation>{file}：selection 的 &apos;site&apos; 必须是一个注意力位置的名称</translation>
    </message>
    <message>
        <source>{file}: selection &apos;head&apos; must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：selection 的 &apos;head&apos; 必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: selection &apos;window&apos; must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：selection 的 &apos;window&apos; 必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: selection &apos;query&apos; must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：selection 的 &apos;query&apos; 必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: selection &apos;key&apos; must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：selection 的 &apos;key&apos; 必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: selection &apos;locked&apos; must be true or false</source>
        <translation>{file}：selection 的 &apos;locked&apos; 必须是 true 或 false</translation>
    </message>
    <message>
        <source>{file} names an unknown panel {text!r}</source>
        <translation>{file} 指明了未知的面板 {text!r}</translation>
    </message>
    <message>
        <source>{file}: zoom must be a number from 0.5 to 3</source>
        <translation>{file}：缩放必须是 0.5 到 3 之间的数</translation>
    </message>
    <message>
        <source>{file}: &apos;generate&apos; must be a whole number of tokens from 0 to {most}, not {json}</source>
        <translation>{file}：&apos;generate&apos; 必须是 0 到 {most} 之间的整数个词元，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: unknown interventions</source>
        <translation>{file}：未知的干预</translation>
    </message>
    <message>
        <source>{file}: interventions no_mask, no_bias, no_position, bottleneck are true or false</source>
        <translation>{file}：干预 no_mask、no_bias、no_position、bottleneck 的值必须是 true 或 false</translation>
    </message>
    <message>
        <source>{file}: heads_off must be a list of [site, head] pairs</source>
        <translation>{file}：heads_off 必须是由 [位置, 头] 对组成的列表</translation>
    </message>
    <message>
        <source>{file}: heads_mean must be a list of [site, head] pairs</source>
        <translation>{file}：heads_mean 必须是由 [位置, 头] 对组成的列表</translation>
    </message>
    <message>
        <source>{file}: mlps_off must be a list of MLP names</source>
        <translation>{file}：mlps_off 必须是由 MLP 名称组成的列表</translation>
    </message>
    <message>
        <source>{file}: &apos;tour&apos; must name a step</source>
        <translation>{file}：&apos;tour&apos; 必须指明一个步骤</translation>
    </message>
    <message>
        <source>{file}: the tour&apos;s step must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：导览的步骤必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: the tour&apos;s language must be one of {choices}, not {text!r}</source>
        <translation>{file}：导览的语言必须是 {choices} 之一，而不是 {text!r}</translation>
    </message>
    <message>
        <source>{file}: the tour has {tour_steps} steps, not {nth}</source>
        <translation>{file}：导览共有 {tour_steps} 步，没有第 {nth} 步</translation>
    </message>
    <message>
        <source>{file} names an unknown preset {text!r} (known: {choices})</source>
        <translation>{file} 指明了未知的预设 {text!r}（已知：{choices}）</translation>
    </message>
    <message>
        <source>{file}: the {preset} preset needs a text input</source>
        <translation>{file}：预设 {preset} 需要文本输入</translation>
    </message>
    <message>
        <source>{file}: its text is empty</source>
        <translation>{file}：其中的文本为空</translation>
    </message>
    <message>
        <source>{file}: the {preset} preset needs an embedded image</source>
        <translation>{file}：预设 {preset} 需要内嵌图片</translation>
    </message>
    <message>
        <source>{file} names an attention site &apos;{value:.60}&apos; that {preset} does not have</source>
        <translation>{file} 指明的注意力位置 &apos;{value:.60}&apos; 在 {preset} 中不存在</translation>
    </message>
    <message>
        <source>{file}: heads_off names head {item[1]} of &apos;{item[0]:.60}&apos;, which {preset} does not have</source>
        <translation>{file}：heads_off 指明了 &apos;{item[0]:.60}&apos; 的头 {item[1]}，而 {preset} 中没有这个头</translation>
    </message>
    <message>
        <source>{file}: heads_mean names head {item[1]} of &apos;{item[0]:.60}&apos;, which {preset} does not have</source>
        <translation>{file}：heads_mean 指明了 &apos;{item[0]:.60}&apos; 的头 {item[1]}，而 {preset} 中没有这个头</translation>
    </message>
    <message>
        <source>{file}: mlps_off names an MLP &apos;{item:.60}&apos; that {preset} does not have</source>
        <translation>{file}：mlps_off 指明的 MLP &apos;{item:.60}&apos; 在 {preset} 中不存在</translation>
    </message>
    <message>
        <source>{file}: its image is too large: {width}×{height} is over {limit:,} pixels</source>
        <translation>{file}：其中的图片太大：{width}×{height} 超过 {limit:,} 像素</translation>
    </message>
    <message>
        <source>{file}: its image does not decode ({error})</source>
        <translation>{file}：其中的图片无法解码（{error}）</translation>
    </message>
    <message>
        <source>{file}: its model {source} cannot be opened ({error})</source>
        <translation>{file}：无法打开其中的模型 {source}（{error}）</translation>
    </message>
    <message>
        <source>{file} is too large for a session file</source>
        <translation>{file} 太大，不可能是会话文件</translation>
    </message>
    <message>
        <source>no session file at {path}</source>
        <translation>{path} 处没有会话文件</translation>
    </message>
    <message>
        <source>{file} is nested too deeply to be a session file</source>
        <translation>{file} 嵌套太深，不可能是会话文件</translation>
    </message>
    <message>
        <source>{file} is not a session file (not JSON: {error})</source>
        <translation>{file} 不是会话文件（不是 JSON：{error}）</translation>
    </message>
    <message>
        <source>the session&apos;s input is refused: {error}</source>
        <translation>会话的输入被拒绝：{error}</translation>
    </message>
    <message>
        <source>no chat turn: {why}</source>
        <translation>无法使用对话轮次：{why}</translation>
    </message>
    <message>
        <source>the chat template tried something it must not ({reason})</source>
        <translation>对话模板试图做不允许的事（{reason}）</translation>
    </message>
    <message>
        <source>the chat template cannot be used ({reason})</source>
        <translation>对话模板无法使用（{reason}）</translation>
    </message>
    <message>
        <source>a preset has no chat template</source>
        <translation>预设模型没有对话模板</translation>
    </message>
    <message>
        <source>this folder has no chat template</source>
        <translation>这个文件夹没有对话模板</translation>
    </message>
    <message>
        <source>a single weights file has no chat template</source>
        <translation>单个权重文件没有对话模板</translation>
    </message>
    <message>
        <source>its chat template is too long</source>
        <translation>它的对话模板太长</translation>
    </message>
    <message>
        <source>its chat_template.jinja cannot be read</source>
        <translation>它的 chat_template.jinja 无法读取</translation>
    </message>
    <message>
        <source>{source}: its config builds no {arch} model ({kind}: {error})</source>
        <translation>{source}：它的配置构建不出 {arch} 模型（{kind}：{error}）</translation>
    </message>
    <message>
        <source>{source}: its config builds no working {arch} model ({kind}: {error})</source>
        <translation>{source}：它的配置构建不出能运行的 {arch} 模型（{kind}：{error}）</translation>
    </message>
    <message>
        <source>{name}: hidden_act &apos;{act}&apos; is not supported (gelu, gelu_new and relu are)</source>
        <translation>{name}：不支持 hidden_act &apos;{act}&apos;（支持 gelu、gelu_new 和 relu）</translation>
    </message>
    <message>
        <source>{name}: position_embedding_type &apos;{position}&apos; is not supported (only absolute)</source>
        <translation>{name}：不支持 position_embedding_type &apos;{position}&apos;（只支持 absolute）</translation>
    </message>
    <message>
        <source>{name}: a BERT used as a decoder (is_decoder) is not supported</source>
        <translation>{name}：不支持用作解码器的 BERT（is_decoder）</translation>
    </message>
    <message>
        <source>{name}: an output layer apart from the embedding (tie_word_embeddings false) is not supported for BERT</source>
        <translation>{name}：BERT 不支持与嵌入分开的输出层（tie_word_embeddings 为 false）</translation>
    </message>
    <message>
        <source>{name}: no masked-LM head (cls.predictions) in the weights: a BertModel or a fine-tuned classifier cannot fill in [MASK]</source>
        <translation>{name}：权重中没有掩码语言模型头（cls.predictions）：BertModel 或微调过的分类器无法填写 [MASK]</translation>
    </message>
    <message>
        <source>{name}: &apos;{key}&apos; must be a whole number from {low} to {high:,}, not {value}</source>
        <translation>{name}：&apos;{key}&apos; 必须是 {low} 到 {high:,} 之间的整数，而不是 {value}</translation>
    </message>
    <message>
        <source>{name}: &apos;{key}&apos; must be a number from {low:g} to {high:g}, not {value}</source>
        <translation>{name}：&apos;{key}&apos; 必须是 {low:g} 到 {high:g} 之间的数，而不是 {value}</translation>
    </message>
    <message>
        <source>{name}: &apos;{key}&apos; must be a list of 1 to 4 numbers, not {value}</source>
        <translation>{name}：&apos;{key}&apos; 必须是含 1 到 4 个数的列表，而不是 {value}</translation>
    </message>
    <message>
        <source>{source}: the config must be a JSON object, not {kind}</source>
        <translation>{source}：配置必须是 JSON 对象，而不是 {kind}</translation>
    </message>
    <message>
        <source>{source}: unknown config key(s) for {name}: {unknown} (known: {fields})</source>
        <translation>{source}：{name} 的未知配置键：{unknown}（已知的：{fields}）</translation>
    </message>
    <message>
        <source>{folder}/{file} is not a JSON object</source>
        <translation>{folder}/{file} 不是 JSON 对象</translation>
    </message>
    <message>
        <source>{folder} has no weights: expected {files}</source>
        <translation>{folder} 中没有权重：应有 {files}</translation>
    </message>
    <message>
        <source>weights {source} do not fit the model ({parts})</source>
        <translation>权重 {source} 与模型不符（{parts}）</translation>
    </message>
    <message>
        <source>weights {source} hold NaN or infinite values in {count} tensor(s): {broken}{more}</source>
        <translation>权重 {source} 的 {count} 个张量中含有 NaN 或无穷大：{broken}{more}</translation>
    </message>
    <message>
        <source>{name}: the weights have no token embedding</source>
        <translation>{name}：权重中没有词元嵌入</translation>
    </message>
    <message>
        <source>{source}: config &apos;{key}&apos; must be {want}, not {value}</source>
        <translation>{source}：配置项 &apos;{key}&apos; 必须是 {want}，而不是 {value}</translation>
    </message>
    <message>
        <source>{source}: the config does not describe a {name} ({error})</source>
        <translation>{source}：配置描述的不是 {name}（{error}）</translation>
    </message>
    <message>
        <source>{folder}/{file} is nested too deeply to be a configuration</source>
        <translation>{folder}/{file} 嵌套太深，不可能是配置文件</translation>
    </message>
    <message>
        <source>{folder}/{file} is missing or not readable JSON ({error})</source>
        <translation>{folder}/{file} 缺失，或不是可读的 JSON（{error}）</translation>
    </message>
    <message>
        <source>{name}: unexpected tensor &apos;{key}&apos;{unexpected}</source>
        <translation>{name}：意外的张量 &apos;{key}&apos;{unexpected}</translation>
    </message>
    <message>
        <source>{name}: &apos;{key}&apos; lacks its key or value projection</source>
        <translation>{name}：&apos;{key}&apos; 缺少键或值投影</translation>
    </message>
    <message>
        <source>{name}: no {head} in the weights, and tie_word_embeddings is false</source>
        <translation>{name}：权重中没有 {head}，而 tie_word_embeddings 为 false</translation>
    </message>
    <message>
        <source>{name}: &apos;{key}&apos; has shape {shape}, not {count} wide</source>
        <translation>{name}：&apos;{key}&apos; 的形状是 {shape}，宽度不是 {count}</translation>
    </message>
    <message>
        <source>{name}: activation_function &apos;{act}&apos; is not supported (gelu_new, gelu, relu are)</source>
        <translation>{name}：不支持 activation_function &apos;{act}&apos;（支持 gelu_new、gelu、relu）</translation>
    </message>
    <message>
        <source>{name}: scale_attn_by_inverse_layer_idx is not supported (scores scaled per layer)</source>
        <translation>{name}：不支持 scale_attn_by_inverse_layer_idx（按层缩放分数）</translation>
    </message>
    <message>
        <source>{name}: scale_attn_weights false is not supported (our scores are always divided by √dh)</source>
        <translation>{name}：不支持 scale_attn_weights 为 false（这里的分数总是除以 √dh）</translation>
    </message>
    <message>
        <source>{name}: n_embd {width} does not split into {heads} heads</source>
        <translation>{name}：n_embd {width} 不能均分为 {heads} 个头</translation>
    </message>
    <message>
        <source>{name}: &apos;resample&apos; must be one of {choices}, not {resample}</source>
        <translation>{name}：&apos;resample&apos; 必须是 {choices} 之一，而不是 {resample}</translation>
    </message>
    <message>
        <source>{name}: rope_scaling type &apos;{kind}&apos; is not supported (only linear and llama3 are computed exactly here)</source>
        <translation>{name}：不支持 rope_scaling 类型 &apos;{kind}&apos;（这里只精确计算 linear 和 llama3）</translation>
    </message>
    <message>
        <source>{name}: partial rotary (factor {partial}) is not supported</source>
        <translation>{name}：不支持部分旋转（系数 {partial}）</translation>
    </message>
    <message>
        <source>{name}: rope_scaling &apos;{kind}&apos; lacks {missing}</source>
        <translation>{name}：rope_scaling &apos;{kind}&apos; 缺少 {missing}</translation>
    </message>
    <message>
        <source>{name}: rope_scaling option(s) {extra} are not supported</source>
        <translation>{name}：不支持 rope_scaling 选项 {extra}</translation>
    </message>
    <message>
        <source>{name}: hidden_act &apos;{act}&apos; is not supported (the SwiGLU MLP uses silu)</source>
        <translation>{name}：不支持 hidden_act &apos;{act}&apos;（SwiGLU MLP 使用 silu）</translation>
    </message>
    <message>
        <source>{name}: {heads} heads cannot share {kv} key/value heads</source>
        <translation>{name}：{heads} 个头无法共享 {kv} 个键/值头</translation>
    </message>
    <message>
        <source>{name}: head_dim {head_dim} is not an even whole number</source>
        <translation>{name}：head_dim {head_dim} 不是偶数</translation>
    </message>
    <message>
        <source>{name}: hidden_size {width} does not split into {heads} heads</source>
        <translation>{name}：hidden_size {width} 不能均分为 {heads} 个头</translation>
    </message>
    <message>
        <source>{name}: different rope parameters per layer type are not supported</source>
        <translation>{name}：不支持每种层类型使用不同的 RoPE 参数</translation>
    </message>
    <message>
        <source>{name}: activation_function &apos;{act}&apos; is not supported</source>
        <translation>{name}：不支持 activation_function &apos;{act}&apos;</translation>
    </message>
    <message>
        <source>{name}: no lm_head.weight, and the output is not tied to the decoder&apos;s embedding</source>
        <translation>{name}：没有 lm_head.weight，输出也没有与解码器的嵌入绑定</translation>
    </message>
    <message>
        <source>{name}: {a} {value_a} differs from {b} {value_b}; this app&apos;s Transformer uses one value for both</source>
        <translation>{name}：{a} {value_a} 与 {b} {value_b} 不同；本应用的 Transformer 两者用同一个值</translation>
    </message>
    <message>
        <source>translation models need the sentencepiece package: pip install -e &apos;.[real]&apos;</source>
        <translation>翻译模型需要 sentencepiece 包：pip install -e &apos;.[real]&apos;</translation>
    </message>
    <message>
        <source>{folder}: source.spm/target.spm cannot be read ({error})</source>
        <translation>{folder}：无法读取 source.spm/target.spm（{error}）</translation>
    </message>
    <message>
        <source>{path} is a folder: give the weights file itself</source>
        <translation>{path} 是文件夹：请给出权重文件本身</translation>
    </message>
    <message>
        <source>no weights file at {path}</source>
        <translation>{path} 处没有权重文件</translation>
    </message>
    <message>
        <source>{file} holds a {kind}, not a state dict</source>
        <translation>{file} 里是 {kind}，不是 state dict</translation>
    </message>
    <message>
        <source>{file} holds no tensors</source>
        <translation>{file} 里没有张量</translation>
    </message>
    <message>
        <source>{file} is not a valid safetensors weights file ({error})</source>
        <translation>{file} 不是有效的 safetensors 权重文件（{error}）</translation>
    </message>
    <message>
        <source>{file} cannot be read as PyTorch weights with the safe loader (weights_only: tensors and plain containers only; nothing else was unpickled): {load_failure}</source>
        <translation>{file} 无法用安全加载器读作 PyTorch 权重（weights_only：只读张量和普通容器；没有反序列化任何其他内容）：{load_failure}</translation>
    </message>
    <message>
        <source>not torch.save&apos;s zip format: a raw pickle or another file ({reason})</source>
        <translation>不是 torch.save 的 zip 格式：是原始 pickle 或其他文件（{reason}）</translation>
    </message>
    <message>
        <source>model_type {model_type} cannot be opened ({known})</source>
        <translation>无法打开 model_type {model_type}（{known}）</translation>
    </message>
    <message>
        <source>only {families} are, and timm folders</source>
        <translation>只能打开 {families}，以及 timm 文件夹</translation>
    </message>
    <message>
        <source>{feature} is not supported; {known}</source>
        <translation>不支持 {feature}；{known}</translation>
    </message>
    <message>
        <source>{folder} is not a model folder: it has no config.json</source>
        <translation>{folder} 不是模型文件夹：其中没有 config.json</translation>
    </message>
    <message>
        <source>{folder}: {error}</source>
        <translation>{folder}：{error}</translation>
    </message>
    <message>
        <source>{name}: config.json has no &apos;{key}&apos;</source>
        <translation>{name}：config.json 中没有 &apos;{key}&apos;</translation>
    </message>
    <message>
        <source>{name}: config.json&apos;s &apos;{key}&apos; must be a positive whole number, not {value}</source>
        <translation>{name}：config.json 的 &apos;{key}&apos; 必须是正整数，而不是 {value}</translation>
    </message>
    <message>
        <source>{name}: quantised weights ({method}) are not supported; de-quantising would change the outputs</source>
        <translation>{name}：不支持量化权重（{method}）；反量化会改变输出</translation>
    </message>
    <message>
        <source>{name}: cross-attention layers are not supported here</source>
        <translation>{name}：这里不支持交叉注意力层</translation>
    </message>
    <message>
        <source>{name}: the token embedding is {shape}, but config.json says vocab_size {vocab_size} × width {d_model}</source>
        <translation>{name}：词元嵌入是 {shape}，但 config.json 写的是 vocab_size {vocab_size} × 宽度 {d_model}</translation>
    </message>
    <message>
        <source>{name}: config.json says {num_layers} layers, the weights hold {count}</source>
        <translation>{name}：config.json 写的是 {num_layers} 层，权重中有 {count} 层</translation>
    </message>
    <message>
        <source>{name}: mixture-of-experts layers ({key} {count}) are not supported</source>
        <translation>{name}：不支持混合专家层（{key} {count}）</translation>
    </message>
    <message>
        <source>{name}: a multimodal folder ({key}) cannot be opened; only text models are</source>
        <translation>{name}：无法打开多模态文件夹（{key}）；只能打开文本模型</translation>
    </message>
    <message>
        <source>{file}: name the timm variant with --arch (for example vit_tiny_patch16_224): neither a folder with config.json nor a file named after one</source>
        <translation>{file}：请用 --arch 指明 timm 变体（例如 vit_tiny_patch16_224）：它既不是含 config.json 的文件夹，也不是以变体命名的文件</translation>
    </message>
    <message>
        <source>{name}: &apos;architecture&apos; must be a timm variant&apos;s name, not {variant}</source>
        <translation>{name}：&apos;architecture&apos; 必须是 timm 变体的名字，而不是 {variant}</translation>
    </message>
    <message>
        <source>{name}: timm architecture &apos;{variant}&apos; is not supported ({known} and {last} are)</source>
        <translation>{name}：不支持 timm 架构 &apos;{variant}&apos;（支持 {known} 和 {last}）</translation>
    </message>
    <message>
        <source>{name}: &apos;pretrained_cfg&apos; must be an object</source>
        <translation>{name}：&apos;pretrained_cfg&apos; 必须是对象</translation>
    </message>
    <message>
        <source>{name}: &apos;input_size&apos; must be [channels, height, width]</source>
        <translation>{name}：&apos;input_size&apos; 必须是 [通道, 高, 宽]</translation>
    </message>
    <message>
        <source>{name}: non-square input {height}×{width} is not supported</source>
        <translation>{name}：不支持非正方形输入 {height}×{width}</translation>
    </message>
    <message>
        <source>{name}: no patch embedding (patch_embed.proj.weight)</source>
        <translation>{name}：没有 patch 嵌入（patch_embed.proj.weight）</translation>
    </message>
    <message>
        <source>{name}: interpolation {resample} is not supported</source>
        <translation>{name}：不支持插值方式 {resample}</translation>
    </message>
    <message>
        <source>{name}: &apos;label_names&apos; must be a list</source>
        <translation>{name}：&apos;label_names&apos; 必须是列表</translation>
    </message>
    <message>
        <source>{name}: global_pool &apos;{global_pool}&apos; is not supported (our ViT classifies from the CLS token)</source>
        <translation>{name}：不支持 global_pool &apos;{global_pool}&apos;（这里的 ViT 用 CLS 词元分类）</translation>
    </message>
    <message>
        <source>{name}: a ViT without a class token is not supported</source>
        <translation>{name}：不支持没有类别词元的 ViT</translation>
    </message>
    <message>
        <source>{name}: qkv_bias false is not supported yet</source>
        <translation>{name}：暂不支持 qkv_bias 为 false</translation>
    </message>
    <message>
        <source>{name}: no classifier in the weights (head.weight)</source>
        <translation>{name}：权重中没有分类器（head.weight）</translation>
    </message>
    <message>
        <source>{name}: {tokens} position embeddings do not fit a {size}×{size} input in {patch}×{patch} patches</source>
        <translation>{name}：{tokens} 个位置嵌入与 {size}×{size} 输入、{patch}×{patch} 的 patch 不符</translation>
    </message>
    <message>
        <source>{name}: width {width} does not split into {heads} heads; say how many in config.json&apos;s num_heads</source>
        <translation>{name}：宽度 {width} 不能均分为 {heads} 个头；请在 config.json 的 num_heads 中写明头数</translation>
    </message>
    <message>
        <source>{name}: no classifier in the weights (head.fc.weight)</source>
        <translation>{name}：权重中没有分类器（head.fc.weight）</translation>
    </message>
    <message>
        <source>{name}: {what} is not supported; loading without it would change the outputs</source>
        <translation>{name}：不支持 {what}；不加载它会改变输出</translation>
    </message>
    <message>
        <source>{name}: stage {s} has {res}×{res} tokens, not a multiple of window {window} (timm pads; this app does not)</source>
        <translation>{name}：第 {s} 阶段有 {res}×{res} 个词元，不是窗口 {window} 的倍数（timm 会填充；本应用不会）</translation>
    </message>
    <message>
        <source>{name}: the tokenizer has no mask token ([MASK])</source>
        <translation>{name}：分词器没有掩码词元（[MASK]）</translation>
    </message>
    <message>
        <source>text models need the tokenizers package: pip install -e &apos;.[real]&apos;</source>
        <translation>文本模型需要 tokenizers 包：pip install -e &apos;.[real]&apos;</translation>
    </message>
    <message>
        <source>{name}: its tokenizer cannot be read ({error})</source>
        <translation>{name}：无法读取它的分词器（{error}）</translation>
    </message>
    <message>
        <source>{name}: no tokenizer: tokenizer.json, vocab.txt (BERT) or vocab.json and merges.txt (GPT-2) expected{spm}</source>
        <translation>{name}：没有分词器：应有 tokenizer.json、vocab.txt（BERT），或 vocab.json 和 merges.txt（GPT-2）{spm}</translation>
    </message>
    <message>
        <source> (only tokenizer.model: save the tokenizer with transformers to get a tokenizer.json)</source>
        <translation>（只有 tokenizer.model：用 transformers 保存分词器即可得到 tokenizer.json）</translation>
    </message>
    <message>
        <source> (layernorm_embedding and other mBART options are not supported)</source>
        <translation>（不支持 layernorm_embedding 等 mBART 选项）</translation>
    </message>
    <message>
        <source>{name}: hidden_act &apos;{act}&apos; is not supported (only the exact &apos;gelu&apos;); loading it would change the outputs</source>
        <translation>{name}：不支持 hidden_act &apos;{act}&apos;（只支持精确的 &apos;gelu&apos;）；加载它会改变输出</translation>
    </message>
    <message>
        <source>{name}: config.json has no image_size or patch_size</source>
        <translation>{name}：config.json 中没有 image_size 或 patch_size</translation>
    </message>
    <message>
        <source>{name}: non-square images ({size}, patch {patch}) are not supported</source>
        <translation>{name}：不支持非正方形图像（{size}，patch {patch}）</translation>
    </message>
    <message>
        <source>{name}: image_size {size} is not a multiple of patch_size {patch}</source>
        <translation>{name}：image_size {size} 不是 patch_size {patch} 的倍数</translation>
    </message>
    <message>
        <source>{name}: num_hidden_layers is {depth}, but the weights hold {held} layers</source>
        <translation>{name}：num_hidden_layers 是 {depth}，但权重中有 {held} 层</translation>
    </message>
    <message>
        <source>{name}: no classifier in the weights (a backbone without a head cannot classify)</source>
        <translation>{name}：权重中没有分类器（没有分类头的主干网络无法分类）</translation>
    </message>
    <message>
        <source>{name}: a distillation token needs its own classifier (and the other way round)</source>
        <translation>{name}：蒸馏词元需要自己的分类器（反之亦然）</translation>
    </message>
    <message>
        <source>{name}: absolute position embeddings are not supported</source>
        <translation>{name}：不支持绝对位置嵌入</translation>
    </message>
    <message>
        <source>{name}: no classifier in the weights</source>
        <translation>{name}：权重中没有分类器</translation>
    </message>
    <message>
        <source>{name}: the weights&apos; depths {depths} differ from config.json&apos;s {config_depths}</source>
        <translation>{name}：权重的深度 {depths} 与 config.json 的 {config_depths} 不同</translation>
    </message>
    <message>
        <source>weights in {source} do not fit the model: its config asks for {key} {value}, the weights hold {held} (they hold {names}{more})</source>
        <translation>{source} 中的权重与模型不符：配置要求 {key} {value}，权重中是 {held}（其中有 {names}{more}）</translation>
    </message>
    <message>
        <source>the continuation ended after {n} tokens: the model wrote its end token</source>
        <translation>续写在 {n} 个词元后结束：模型写出了结束词元</translation>
    </message>
    <message>
        <source>no {mask} in the input: type one where a word should be guessed (every position&apos;s guesses are below)</source>
        <translation>输入中没有 {mask}：在要猜的词的位置输入一个（每个位置的猜测在下方）</translation>
    </message>
    <message>
        <source>no causal mask: each decoder row also sees the words after it, so it may copy the next word; decoding word by word is unchanged</source>
        <translation>没有因果掩码：解码器的每一行也能看到它后面的词，所以可能照抄下一个词；逐词解码不受影响</translation>
    </message>
    <message>
        <source>the output was cut after {limit} tokens (twice the input&apos;s, plus 10): the model had not ended it</source>
        <translation>输出在 {limit} 个词元处被截断（输入的两倍再加 10）：模型还没有结束它</translation>
    </message>
    <message>
        <source>seq2seq bottleneck: every decoding step sees one context vector (the mean of the encoder states), so cross-attention is uniform</source>
        <translation>seq2seq 瓶颈：每个解码步骤只看到一个上下文向量（编码器状态的平均），所以交叉注意力是均匀的</translation>
    </message>
    <message>
        <source>ignored: {characters} (this model reads words of letters and digits)</source>
        <translation>已忽略：{characters}（这个模型只读由字母和数字组成的词）</translation>
    </message>
    <message>
        <source>{mode} to grayscale</source>
        <translation>{mode} 转为灰度</translation>
    </message>
    <message>
        <source>{mode} rescaled to 0-1</source>
        <translation>{mode} 缩放到 0–1</translation>
    </message>
    <message>
        <source>{mode} composited over black</source>
        <translation>{mode} 合成到黑色背景上</translation>
    </message>
    <message>
        <source>{mode} composited over white</source>
        <translation>{mode} 合成到白色背景上</translation>
    </message>
    <message>
        <source>not a sentence of the grammar: &apos;{word}&apos; cannot follow &apos;{previous}&apos; (word {n})</source>
        <translation>不是语法中的句子：&apos;{word}&apos; 不能跟在 &apos;{previous}&apos; 后面（第 {n} 个词）</translation>
    </message>
    <message>
        <source>empty</source>
        <translation>空</translation>
    </message>
    <message>
        <source>unknown words: {listed}</source>
        <translation>未知词：{listed}</translation>
    </message>
    <message>
        <source>unknown word: {listed}</source>
        <translation>未知词：{listed}</translation>
    </message>
    <message>
        <source>{n} words: longer than any training sentence ({most})</source>
        <translation>{n} 个词：比任何训练句子都长（{most}）</translation>
    </message>
    <message>
        <source>ambiguous: the grammar reads it in more than one way</source>
        <translation>有歧义：语法可以用不止一种方式解读它</translation>
    </message>
    <message>
        <source>not a sentence of the grammar: {why}</source>
        <translation>不是语法中的句子：{why}</translation>
    </message>
    <message>
        <source>not a sentence of the grammar: it stops too early after &apos;{word}&apos;</source>
        <translation>不是语法中的句子：它在 &apos;{word}&apos; 之后过早结束</translation>
    </message>
    <message>
        <source>not a sentence of the grammar: a sentence cannot start with &apos;{word}&apos;</source>
        <translation>不是语法中的句子：句子不能以 &apos;{word}&apos; 开头</translation>
    </message>
    <message>
        <source>&apos;{determiner}&apos; does not go with the plural &apos;{noun}&apos;</source>
        <translation>&apos;{determiner}&apos; 不能与复数的 &apos;{noun}&apos; 搭配</translation>
    </message>
    <message>
        <source>&apos;{determiner}&apos; does not go with the singular &apos;{noun}&apos;</source>
        <translation>&apos;{determiner}&apos; 不能与单数的 &apos;{noun}&apos; 搭配</translation>
    </message>
    <message>
        <source>write &apos;{determiner}&apos; before &apos;{word}&apos;</source>
        <translation>在 &apos;{word}&apos; 前应写 &apos;{determiner}&apos;</translation>
    </message>
    <message>
        <source>&apos;{word}&apos; does not agree with its plural subject</source>
        <translation>&apos;{word}&apos; 与它的复数主语不一致</translation>
    </message>
    <message>
        <source>&apos;{word}&apos; does not agree with its singular subject</source>
        <translation>&apos;{word}&apos; 与它的单数主语不一致</translation>
    </message>
    <message>
        <source>after &apos;not&apos; the verb is written &apos;{verb}&apos;</source>
        <translation>&apos;not&apos; 之后动词应写作 &apos;{verb}&apos;</translation>
    </message>
    <message>
        <source>could not use {device} ({error}): running on CPU</source>
        <translation>无法使用 {device}（{error}）：改在 CPU 上运行</translation>
    </message>
    <message>
        <source>{error}: running on CPU</source>
        <translation>{error}：改在 CPU 上运行</translation>
    </message>
    <message>
        <source>{names} and {last}</source>
        <translation>{names} 和 {last}</translation>
    </message>
    <message>
        <source>ALiBi position biases</source>
        <translation>ALiBi 位置偏置</translation>
    </message>
    <message>
        <source>a parallel attention/MLP block (and ALiBi in some)</source>
        <translation>并行的注意力/MLP 块（有的还有 ALiBi）</translation>
    </message>
    <message>
        <source>mixture-of-experts layers</source>
        <translation>混合专家层</translation>
    </message>
    <message>
        <source>an image encoder (multimodal)</source>
        <translation>图像编码器（多模态）</translation>
    </message>
    <message>
        <source>RoBERTa&apos;s offset positions</source>
        <translation>RoBERTa 的偏移位置</translation>
    </message>
    <message>
        <source>parallel residuals and partial rotary</source>
        <translation>并行残差和部分旋转</translation>
    </message>
    <message>
        <source>local attention layers</source>
        <translation>局部注意力层</translation>
    </message>
    <message>
        <source>scaled embeddings and its own norm</source>
        <translation>缩放的嵌入和它自己的归一化</translation>
    </message>
    <message>
        <source>logit soft-capping</source>
        <translation>logit 软上限</translation>
    </message>
    <message>
        <source>partial rotary and a parallel block</source>
        <translation>部分旋转和并行块</translation>
    </message>
    <message>
        <source>OPT&apos;s offset positions</source>
        <translation>OPT 的偏移位置</translation>
    </message>
    <message>
        <source>different tensor names and no token types</source>
        <translation>不同的张量名，且没有 token 类型</translation>
    </message>
    <message>
        <source>export writes .png or .svg files, not &apos;{name}&apos;</source>
        <translation>导出只能写 .png 或 .svg 文件，不能写 &apos;{name}&apos;</translation>
    </message>
    <message>
        <source>scale must be from 1 to 4, not {scale}</source>
        <translation>缩放倍数必须在 1 到 4 之间，而不是 {scale}</translation>
    </message>
    <message>
        <source>could not write {path}</source>
        <translation>无法写入 {path}</translation>
    </message>
    <message>
        <source>--dtype {name}? choose bfloat16 or float16 (float32 is the default)</source>
        <translation>--dtype {name}？请选择 bfloat16 或 float16（默认为 float32）</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is not one of this model&apos;s outputs (give a token of its vocabulary, a class label, or an id)</source>
        <translation>&apos;{text}&apos; 不是这个模型的输出之一（请给出它词表中的一个 token、一个类别标签或一个编号）</translation>
    </message>
    <message>
        <source>type a word or a token</source>
        <translation>请输入一个词或一个词元</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is {n} words: type one</source>
        <translation>&apos;{text}&apos; 是 {n} 个词：请只输入一个</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is no token of this model: its tokenizer reads only special tokens there</source>
        <translation>&apos;{text}&apos; 不是这个模型的词元：它的分词器在这里只读出特殊词元</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is {n} tokens for this model&apos;s tokenizer: {pieces}; type one token</source>
        <translation>对这个模型的分词器来说，&apos;{text}&apos; 是 {n} 个词元：{pieces}；请输入一个词元</translation>
    </message>
    <message>
        <source>a classifier is read at its class token or its pooled tokens: leave the position out</source>
        <translation>分类器在它的类别 token 或池化后的 token 上读出：请不要指定位置</translation>
    </message>
    <message>
        <source>a position is needed</source>
        <translation>需要指定一个位置</translation>
    </message>
    <message>
        <source>no output {target}: the read-out has {size}</source>
        <translation>没有输出 {target}：读出层只有 {size} 个</translation>
    </message>
    <message>
        <source>no position {position}: the input has {n} tokens</source>
        <translation>没有位置 {position}：输入只有 {n} 个 token</translation>
    </message>
    <message>
        <source>no read-out for this architecture: {arch}</source>
        <translation>这种架构没有读出层：{arch}</translation>
    </message>
    <message>
        <source>the device {device} cannot compute in {dtype} ({error}); open the folder without --dtype to compute in float32</source>
        <translation>设备 {device} 不能用 {dtype} 计算（{error}）；不加 --dtype 打开这个文件夹，就会用 float32 计算</translation>
    </message>
    <message>
        <source>{folder} has no weights: expected {files} or {index} with its shards</source>
        <translation>{folder} 里没有权重：应当有 {files}，或者 {index} 及其分片</translation>
    </message>
    <message>
        <source>{folder}/{index} has no weight_map of tensor names to shard files</source>
        <translation>{folder}/{index} 没有从张量名到分片文件的 weight_map</translation>
    </message>
    <message>
        <source>{folder}/{index}: tensor &apos;{name}&apos; is mapped to {file}, not a .safetensors file of the folder</source>
        <translation>{folder}/{index}：张量 &apos;{name}&apos; 被映射到 {file}，而不是这个文件夹里的 .safetensors 文件</translation>
    </message>
    <message>
        <source>{folder}: shard {file} holds &apos;{name}&apos;, which {index} does not map to it</source>
        <translation>{folder}：分片 {file} 含有 &apos;{name}&apos;，但 {index} 没有把它映射到这个分片</translation>
    </message>
    <message>
        <source>{folder}: shard {file} lacks &apos;{name}&apos;, which {index} maps to it</source>
        <translation>{folder}：分片 {file} 缺少 &apos;{name}&apos;，而 {index} 把它映射到这个分片</translation>
    </message>
    <message>
        <source>{folder}: shard {file} named in {index} is missing</source>
        <translation>{folder}：{index} 中列出的分片 {file} 不存在</translation>
    </message>
    <message>
        <source>{folder}: shard {file} named in {index} is missing (and {more} more)</source>
        <translation>{folder}：{index} 中列出的分片 {file} 不存在（另有 {more} 个也不存在）</translation>
    </message>
    <message>
        <source>{folder}: tensor &apos;{name}&apos; is in more than one shard ({file} and another)</source>
        <translation>{folder}：张量 &apos;{name}&apos; 出现在不止一个分片中（{file} 和另一个）</translation>
    </message>
    <message>
        <source>{name}: RoPE scaling of the sliding-window layers is not supported</source>
        <translation>{name}：不支持滑动窗口层的 RoPE 缩放</translation>
    </message>
    <message>
        <source>{name}: attn_logit_softcapping (soft-capped attention scores) is not supported</source>
        <translation>{name}：不支持 attn_logit_softcapping（软截断的注意力分数）</translation>
    </message>
    <message>
        <source>{name}: hidden_activation &apos;{act}&apos; is not supported (Gemma 3&apos;s MLP uses gelu_pytorch_tanh)</source>
        <translation>{name}：不支持 hidden_activation &apos;{act}&apos;（Gemma 3 的 MLP 使用 gelu_pytorch_tanh）</translation>
    </message>
    <message>
        <source>{name}: layer_types must name sliding_attention or full_attention for each of the {layers} layers</source>
        <translation>{name}：layer_types 必须为全部 {layers} 层逐一写明 sliding_attention 或 full_attention</translation>
    </message>
    <message>
        <source>{name}: use_bidirectional_attention is not supported (a causal language model only)</source>
        <translation>{name}：不支持 use_bidirectional_attention（只支持因果语言模型）</translation>
    </message>
    <message>
        <source>an image encoder (multimodal Gemma 3, 4B and larger; the text-only Gemma 3 folders, model_type gemma3_text, open)</source>
        <translation>图像编码器（多模态 Gemma 3，4B 及更大；纯文本的 Gemma 3 文件夹，即 model_type gemma3_text，可以打开）</translation>
    </message>
    <message>
        <source>the clean input has {clean} tokens and the corrupted one {corrupt}: patching needs the same number in both</source>
        <translation>干净输入有 {clean} 个 token，被破坏的输入有 {corrupt} 个：修补需要两者的 token 数相同</translation>
    </message>
    <message>
        <source>a target is one token; &apos;{text}&apos; is {count} here: {pieces}</source>
        <translation>目标必须是一个 token；&apos;{text}&apos; 在这里是 {count} 个：{pieces}</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; is not one of this model&apos;s classes</source>
        <translation>&apos;{text}&apos; 不是这个模型的类别之一</translation>
    </message>
    <message>
        <source>target {target}? this model has outputs 0 to {last}</source>
        <translation>目标 {target}？这个模型的输出编号是 0 到 {last}</translation>
    </message>
    <message>
        <source>the metric logit({a}) - logit({b}) is {value:.4g} on both inputs: choose targets that tell them apart</source>
        <translation>度量 logit({a}) - logit({b}) 在两个输入上都是 {value:.4g}：请选择能区分两者的目标</translation>
    </message>
    <message>
        <source>this model has no {kind} outputs to patch</source>
        <translation>这个模型没有可修补的 {kind} 输出</translation>
    </message>
    <message>
        <source>a cell names a &apos;point&apos; (the stream) or a &apos;site&apos; (a sublayer or a head) to patch</source>
        <translation>一个单元格要指明要修补的 &apos;point&apos;（残差流）或 &apos;site&apos;（子层或注意力头）</translation>
    </message>
    <message>
        <source>sweep &apos;{kind}&apos;? choose one of {choices}</source>
        <translation>扫描 &apos;{kind}&apos;？请从 {choices} 中选择</translation>
    </message>
    <message>
        <source>batch {batch}? patched runs per forward: 1 or more</source>
        <translation>批量 {batch}？每次前向传播的修补运行数：至少 1</translation>
    </message>
    <message>
        <source>no point &apos;{name}&apos; in this model&apos;s stream</source>
        <translation>这个模型的残差流中没有位置 &apos;{name}&apos;</translation>
    </message>
    <message>
        <source>no attention site &apos;{name}&apos; in this model</source>
        <translation>这个模型中没有注意力位置 &apos;{name}&apos;</translation>
    </message>
    <message>
        <source>the receiver &apos;{receiver}&apos; must come after the sender &apos;{sender}&apos;</source>
        <translation>接收者 &apos;{receiver}&apos; 必须位于发送者 &apos;{sender}&apos; 之后</translation>
    </message>
    <message>
        <source>part &apos;{part}&apos;? choose q, k or v</source>
        <translation>部分 &apos;{part}&apos;？请选择 q、k 或 v</translation>
    </message>
    <message>
        <source>the corpus command writes Parquet with pyarrow: {install}</source>
        <translation>&apos;corpus&apos; 命令用 &apos;pyarrow&apos; 写 &apos;Parquet&apos; 文件：{install}</translation>
    </message>
    <message>
        <source>no such file or folder: {path}</source>
        <translation>没有这个文件或文件夹：{path}</translation>
    </message>
    <message>
        <source>{path} holds several splits ({splits}): give one split&apos;s folder</source>
        <translation>{path} 含有多个划分（{splits}）：请给出其中一个划分的文件夹</translation>
    </message>
    <message>
        <source>{path} is a folder: this model reads text (give a text file, JSON Lines or a saved data set)</source>
        <translation>{path} 是文件夹：这个模型读取文本（请给出文本文件、&apos;JSON Lines&apos; 或保存的数据集）</translation>
    </message>
    <message>
        <source>no images in {path}</source>
        <translation>{path} 中没有图片</translation>
    </message>
    <message>
        <source>{path} is a file: this model reads images (give a folder of images, or a saved data set)</source>
        <translation>{path} 是文件：这个模型读取图片（请给出图片文件夹，或保存的数据集）</translation>
    </message>
    <message>
        <source>{path} has no field &apos;{field}&apos; (its records have: {fields}); name one with --field</source>
        <translation>{path} 没有字段 &apos;{field}&apos;（其记录中有：{fields}）；请用 &apos;--field&apos; 指定一个</translation>
    </message>
    <message>
        <source>--field names a field of JSON Lines or a data set; {path} is a text file (one input a line)</source>
        <translation>&apos;--field&apos; 指定 &apos;JSON Lines&apos; 或数据集的字段；{path} 是文本文件（每行一个输入）</translation>
    </message>
    <message>
        <source>{path} is not a data set saved by save_to_disk (no Arrow files)</source>
        <translation>{path} 不是用 save_to_disk 保存的数据集（没有 &apos;Arrow&apos; 文件）</translation>
    </message>
    <message>
        <source>{path} cannot be read: {error}</source>
        <translation>无法读取 {path}：{error}</translation>
    </message>
    <message>
        <source>{path} has no field &apos;{field}&apos; (its columns: {fields}); name one with --field</source>
        <translation>{path} 没有字段 &apos;{field}&apos;（其列为：{fields}）；请用 &apos;--field&apos; 指定一个</translation>
    </message>
    <message>
        <source>{out} holds another corpus ({what} differ): choose another --out, or delete it to start again</source>
        <translation>{out} 中是另一个语料的结果（{what} 不同）：请换一个 &apos;--out&apos;，或删除它重新开始</translation>
    </message>
    <message>
        <source>{out} is not empty and holds no corpus: choose another --out</source>
        <translation>{out} 不是空的，也没有语料结果：请换一个 &apos;--out&apos;</translation>
    </message>
    <message>
        <source>--batch and --workers count from 1, --points from 0</source>
        <translation>&apos;--batch&apos; 和 &apos;--workers&apos; 从 1 起，&apos;--points&apos; 从 0 起</translation>
    </message>
    <message>
        <source>--ray needs Ray Data: {install}</source>
        <translation>&apos;--ray&apos; 需要 &apos;Ray Data&apos;：{install}</translation>
    </message>
    <message>
        <source>{file}: &apos;compare&apos; must be an object</source>
        <translation>{file}：&apos;compare&apos; 必须是一个对象</translation>
    </message>
    <message>
        <source>{file}: &apos;compare&apos; must hold input B: a text or an embedded image</source>
        <translation>{file}：&apos;compare&apos; 必须包含输入 B：文本或内嵌图片</translation>
    </message>
    <message>
        <source>{file}: compare view must be one of {choices}</source>
        <translation>{file}：对比视图必须是 {choices} 之一</translation>
    </message>
    <message>
        <source>{file}: the {preset} preset needs a text input B</source>
        <translation>{file}：{preset} 预设需要文本输入 B</translation>
    </message>
    <message>
        <source>{file}: the {preset} preset needs an embedded image B</source>
        <translation>{file}：{preset} 预设需要内嵌图片 B</translation>
    </message>
    <message>
        <source>the device {device} cannot compute in {dtype} ({error})</source>
        <translation>设备 {device} 不能用 {dtype} 计算（{error}）</translation>
    </message>
    <message>
        <source>{file}: &apos;chat&apos; must be true or false, not {json}</source>
        <translation>{file}：&apos;chat&apos; 必须是 true 或 false，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: &apos;dtype&apos; must be one of {choices}, not {json}</source>
        <translation>{file}：&apos;dtype&apos; 必须是 {choices} 之一，而不是 {json}</translation>
    </message>
    <message>
        <source>no attention site comes before &apos;{receiver}&apos;: nothing can send to it</source>
        <translation>&apos;{receiver}&apos; 之前没有注意力位置：没有什么能发送给它</translation>
    </message>
    <message>
        <source>{file}: &apos;corpus&apos; must name a corpus result&apos;s folder</source>
        <translation>{file}：&apos;corpus&apos; 必须指明一个语料结果的文件夹</translation>
    </message>
    <message>
        <source>{file}: corpus &apos;site&apos; must be a site&apos;s name</source>
        <translation>{file}：corpus 的 &apos;site&apos; 必须是一个注意力位置的名称</translation>
    </message>
    <message>
        <source>{file}: corpus &apos;head&apos; must be a whole number ≥ 0, not {json}</source>
        <translation>{file}：corpus 的 &apos;head&apos; 必须是 ≥ 0 的整数，而不是 {json}</translation>
    </message>
    <message>
        <source>{file}: corpus &apos;statistic&apos; must be a statistic&apos;s name</source>
        <translation>{file}：corpus 的 &apos;statistic&apos; 必须是一个统计量的名称</translation>
    </message>
    <message>
        <source>a path cell names its sender (&apos;site&apos;, &apos;head&apos;), its receiver (&apos;receiver&apos;, &apos;receiver_head&apos;) and the &apos;part&apos; (q, k or v)</source>
        <translation>路径单元格需写明发送者（&apos;site&apos;、&apos;head&apos;）、接收者（&apos;receiver&apos;、&apos;receiver_head&apos;）和 &apos;part&apos;（q、k 或 v）</translation>
    </message>
</context>
</TS>
