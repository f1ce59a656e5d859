"""The prose of the recurrent, normalisation and attention layers' backward sections, English and Korean.

The keys join :mod:`symprop.document.layer_prose`'s tables (and so the languages of
:mod:`symprop.document.i18n`); each kind's sentence is ``<kind>_backward``, said before its
equations (:mod:`symprop.layers.backward_forms`).
"""
from __future__ import annotations

from typing import Mapping

ENGLISH: Mapping[str, str] = {
    "stack_forward_steps": "Layer {layer} ({kind}) computes, at every step t from the first (t = 0), the state before it "
                           "being {start} (zero, or the given initial state):",
    "rnn_backward": (
        "Backpropagation through time. The layer is unrolled over its steps, so the reverse walk runs from the last "
        "step back: {upstream} is the gradient the layers above send to the state of step t, and the state also feeds the "
        "next step, whose delta comes back through the recurrent weights (nothing comes after the last step). The "
        "same weights are used at every step, so each weight's gradient is a sum over the time steps of its use at "
        "each step:"
    ),
    "lstm_backward": (
        "Backpropagation through time, gate by gate, {upstream} being the gradient the layers above send to the "
        "state of step t. From the last step back, the gradient of the state splits "
        "into the output gate and the cell; the cell's gradient also flows to the step before through the forget "
        "gate. Each gate's gradient goes through its own squashing function, the four are stacked in the order of "
        "the weight rows (i, f, g, o, as PyTorch stacks them), and the shared weights sum over the time steps:"
    ),
    "gru_backward": (
        "Backpropagation through time, gate by gate, {upstream} being the gradient the layers above send to the "
        "state of step t. From the last step back, the state's gradient reaches the "
        "candidate n through 1 - z, the update gate z through the difference of the old state and the candidate, "
        "and the old state directly through z; the reset gate r scales the candidate's recurrent part hn. The input "
        "and recurrent sides are stacked in the order of the weight rows (r, z, n, as PyTorch stacks them), and the "
        "shared weights sum over the time steps:"
    ),
    "layernorm_backward": (
        "Each row is normalised by its own mean and variance, so every entry of a row gets a share of every other "
        "entry's gradient: through the mean (the mean(dnorm) term) and through the variance (the last term). The "
        "scale and shift are used in every row, so their gradients sum over the rows:"
    ),
    "batchnorm_backward": (
        "Batch normalisation normalises each feature across the examples of the batch, so the examples are coupled: "
        "each example's gradient gets a share of every other example's, through the batch mean and variance. The "
        "batch is therefore one graph, not copies of one example's. The scale and shift of a feature are used for "
        "every example, so their gradients sum over the batch:"
    ),
    "attention_backward": (
        "The gradient runs back through the weighted sum of the values, then through each query's softmax over the "
        "keys (its Jacobian diag(a) - a a^T, applied row by row), then through the scaled scores to the queries and "
        "keys. The input reaches the loss through all three projections, so its gradient is the sum of three terms:"
    ),
    "picture_every_step": "{shape} at every step",
    "stack_picture_rolled": (
        "The layers as a picture, with the shape of the array between each two. A recurrent layer is drawn rolled "
        "up: one cell, run at every step, whose loop carries its state from each step to the next (the option "
        "unrolled draws it step by step):"
    ),
    "stack_picture_unrolled": (
        "The network unrolled over its steps: one box per layer and step, each cell taking the input of its step "
        "and the state of the step before; the same weights serve every step and are named once:"
    ),
}

KOREAN: Mapping[str, str] = {
    "stack_forward_steps": "{layer}번째 계층({kind})은 첫 단계(t = 0)부터 모든 단계 t에서 다음을 계산합니다. 그 앞의 상태는 "
                           "{start}입니다 (0 또는 주어진 초기 상태):",
    "rnn_backward": (
        "시간을 거슬러 올라가는 역전파(BPTT)입니다. 계층을 단계마다 펼쳤으므로 역방향 탐색은 마지막 단계부터 거꾸로 진행합니다. "
        "{upstream}는 위 계층이 단계 t의 상태로 보내는 기울기이고, 상태는 다음 단계에도 들어가므로 다음 단계의 델타가 순환 가중치를 거쳐 "
        "돌아옵니다 (마지막 단계 뒤에는 아무것도 없습니다). 같은 가중치가 모든 단계에서 쓰이므로 각 가중치의 기울기는 시간 단계에 "
        "걸친 합입니다:"
    ),
    "lstm_backward": (
        "게이트별로 시간을 거슬러 올라가는 역전파입니다. {upstream}는 위 계층이 단계 t의 상태로 보내는 기울기입니다. "
        "마지막 단계부터 거꾸로, 상태의 기울기는 출력 게이트와 셀로 나뉘고, 셀의 "
        "기울기는 망각 게이트를 거쳐 이전 단계로도 흐릅니다. 각 게이트의 기울기는 자신의 활성화 함수를 거치며, 네 게이트는 가중치 "
        "행의 순서(PyTorch처럼 i, f, g, o)로 쌓이고, 공유된 가중치는 시간 단계에 걸쳐 더해집니다:"
    ),
    "gru_backward": (
        "게이트별로 시간을 거슬러 올라가는 역전파입니다. {upstream}는 위 계층이 단계 t의 상태로 보내는 기울기입니다. "
        "마지막 단계부터 거꾸로, 상태의 기울기는 1 - z를 거쳐 후보 n에, 이전 "
        "상태와 후보의 차를 거쳐 갱신 게이트 z에, z를 거쳐 이전 상태에 직접 닿습니다. 리셋 게이트 r은 후보의 순환 부분 hn에 "
        "곱해집니다. 입력 쪽과 순환 쪽은 가중치 행의 순서(PyTorch처럼 r, z, n)로 쌓이고, 공유된 가중치는 시간 단계에 걸쳐 "
        "더해집니다:"
    ),
    "layernorm_backward": (
        "각 행은 자신의 평균과 분산으로 정규화되므로 한 행의 모든 원소는 다른 모든 원소의 기울기를 나누어 받습니다: 평균을 거쳐 "
        "(mean(dnorm) 항) 그리고 분산을 거쳐 (마지막 항). 배율과 이동은 모든 행에서 쓰이므로 그 기울기는 행에 걸친 합입니다:"
    ),
    "batchnorm_backward": (
        "배치 정규화는 각 특성을 배치의 샘플들에 걸쳐 정규화하므로 샘플들이 서로 묶입니다: 각 샘플의 기울기는 배치 평균과 분산을 "
        "거쳐 다른 모든 샘플의 기울기를 나누어 받습니다. 그래서 배치는 한 샘플 그래프의 복사본들이 아니라 하나의 그래프입니다. "
        "특성의 배율과 이동은 모든 샘플에 쓰이므로 그 기울기는 배치에 걸친 합입니다:"
    ),
    "attention_backward": (
        "기울기는 값(value)의 가중합을 거쳐, 각 쿼리가 키에 대해 취한 소프트맥스(행마다 적용되는 야코비안 diag(a) - a a^T)를 "
        "거쳐, 스케일된 점수를 거쳐 쿼리와 키로 돌아갑니다. 입력은 세 사영 모두를 거쳐 손실에 닿으므로 그 기울기는 세 항의 "
        "합입니다:"
    ),
    "picture_every_step": "매 단계 {shape}",
    "stack_picture_rolled": (
        "계층을 그림으로, 두 계층 사이 배열의 모양과 함께. 순환 계층은 접어서 그립니다: 매 단계 실행되는 셀 하나이고, 그 고리가 "
        "상태를 한 단계에서 다음 단계로 나릅니다 (unrolled 옵션은 단계별로 펼쳐 그립니다):"
    ),
    "stack_picture_unrolled": (
        "단계별로 펼친 신경망: 계층과 단계마다 상자 하나이고, 각 셀은 그 단계의 입력과 이전 단계의 상태를 받습니다. 같은 "
        "가중치가 모든 단계에 쓰이며 한 번만 이름을 적습니다:"
    ),
}

#: Language -> the sentences above.
TYPE_PROSE: Mapping[str, Mapping[str, str]] = {"en": ENGLISH, "ko": KOREAN}
