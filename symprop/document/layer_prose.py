"""The prose of documents of layer stacks (convolution, pooling, flatten, dense, ...), English and Korean.

The keys join the language tables of :mod:`symprop.document.i18n` (:data:`LAYER_PROSE`); a
layer type's sentences are named after its kind (``conv_dW``, ``maxpool_dX``).
"""
from __future__ import annotations

from typing import Mapping

from symprop.document.layer_type_prose import TYPE_PROSE

ENGLISH: Mapping[str, str] = {
    "stack_intro": (
        "The network is a stack of layers over arrays. Every gradient below comes from one reverse walk over its "
        "scalar equations; the index forms are proven equal to those gradients, entry by entry."
    ),
    "stack_layers": "The layers, with the shape each one makes:",
    "stack_picture": "The layers as a picture, with the shape of the array between each two:",
    "col_layer": "Layer",
    "col_type": "Type",
    "col_settings": "Settings",
    "col_shape_in": "Input shape",
    "col_shape_out": "Output shape",
    "col_parameters": "Parameters",
    "stack_values": "The worked example starts from these arrays:",
    "stack_examples": "These are the first example's arrays; the gradients are combined over {count} examples.",
    "stack_forward": "Forward pass, layer by layer",
    "stack_forward_layer": "Layer {layer} ({kind}) computes every entry as it computes its first one:",
    "stack_flatten": "Layer {layer} (flatten) lays the entries out as one vector, channel by channel and row by row: "
                     "it only reshapes, so its gradient is the upstream gradient reshaped back.",
    "stack_values_out": "Its output at the example:",
    "stack_loss": "The loss at the example is {value}.",
    "stack_backward": "Layer {layer} ({kind}): backward",
    "stack_upstream": "The gradient arriving at this layer, {delta}, at the example:",
    "stack_activation": "The activation is applied entry by entry, so {delta} = {upstream} times its derivative "
                        "at each entry:",
    "stack_delta": "In the index forms, {delta} stands for the gradient arriving, {upstream}, and x for the layer's input "
                   "{x}; indices count from 0.",
    "stack_one_entry": "One derivation per kind of entry: the engine's chain rule for {entry} sums over every node "
                       "the entry feeds:",
    "stack_numbers": "The gradients as arrays, at the example:",
    "stack_proven": "Each index form above was compared with the engine's gradient of all {count} entries: equal at "
                    "every one.",
    "conv_dW": (
        "Weight sharing: one kernel entry is used at every position of the output, so its gradient sums over all "
        "of them. It is the correlation of the input with the upstream gradient (s is the stride, P the padding; an "
        "entry outside the input is 0):"
    ),
    "conv_db": "A filter's bias is added at every position, so its gradient is the sum of the upstream gradient over "
               "the positions:",
    "conv_dX": (
        "The gradient by the input is the full convolution of the upstream gradient with the kernel turned by 180 "
        "degrees: each input entry collects every kernel entry that multiplied it (only whole indices inside the "
        "output count):"
    ),
    "maxpool_dX": (
        "Max pooling routes the upstream gradient to the entry that was the maximum of its window, H being the step "
        "function. The scalar graph takes the maximum's derivative as SymPy's Max does, H(0) = 1/2: when two entries "
        "tie, each receives half (and so does each of three or more tied entries)."
    ),
    "avgpool_dX": "Average pooling spreads the upstream gradient evenly over its window:",
    "dense_dW": "A weight's gradient is the upstream gradient of its unit times the input it multiplies (summed over "
                "steps when the layer applies at every step):",
    "dense_db": "A bias's gradient is the upstream gradient of its unit:",
    "dense_dX": "The gradient by the input sums over the units it feeds:",
    "stack_check": "Check by finite differences",
    "stack_check_result": "Central finite differences agree with all {count} gradients; the largest relative error "
                          "is {error}.",
    "stack_check_failed": "Central finite differences disagree with {failed} of {count} gradients.",
    "stack_after": "After the update",
    "stack_after_values": "One step of gradient descent with learning rate {eta} gives:",
    "stack_after_loss": "The loss falls from {before} to {after}.",
}

KOREAN: Mapping[str, str] = {
    "stack_intro": (
        "이 신경망은 배열 위의 계층을 쌓은 것입니다. 아래의 모든 기울기는 스칼라 방정식을 한 번 거꾸로 훑는 역전파에서 나오며, "
        "인덱스 식은 그 기울기와 원소마다 같음이 증명됩니다."
    ),
    "stack_layers": "계층과 각 계층이 만드는 모양:",
    "stack_picture": "계층을 그림으로, 두 계층 사이 배열의 모양과 함께:",
    "col_layer": "계층",
    "col_type": "종류",
    "col_settings": "설정",
    "col_shape_in": "입력 모양",
    "col_shape_out": "출력 모양",
    "col_parameters": "매개변수",
    "stack_values": "예제는 다음 배열에서 시작합니다:",
    "stack_examples": "첫 번째 예제의 배열입니다. 기울기는 {count}개 예제에 걸쳐 합쳐집니다.",
    "stack_forward": "순전파, 계층별로",
    "stack_forward_layer": "{layer}번째 계층({kind})은 모든 원소를 첫 번째 원소처럼 계산합니다:",
    "stack_flatten": "{layer}번째 계층(flatten)은 원소를 채널, 행 순서로 한 벡터로 늘어놓습니다. 모양만 바꾸므로 기울기는 "
                     "위에서 온 기울기를 원래 모양으로 되돌린 것입니다.",
    "stack_values_out": "예제에서의 출력:",
    "stack_loss": "예제에서의 손실은 {value}입니다.",
    "stack_backward": "{layer}번째 계층({kind}): 역전파",
    "stack_upstream": "이 계층에 도착하는 기울기 {delta}, 예제에서의 값:",
    "stack_activation": "활성화 함수는 원소마다 적용되므로 {delta|는} 각 원소에서 {upstream}에 그 도함수를 곱한 것입니다:",
    "stack_delta": "인덱스 식에서 {delta|는} 도착하는 기울기 {upstream}, x는 계층의 입력 {x|를} 뜻합니다. 인덱스는 0부터 셉니다.",
    "stack_one_entry": "원소의 종류마다 유도 하나: {entry}에 대한 엔진의 연쇄법칙은 그 원소가 들어가는 모든 노드에 걸친 합입니다:",
    "stack_numbers": "예제에서의 기울기 배열:",
    "stack_proven": "위의 각 인덱스 식을 엔진이 구한 {count}개 원소의 기울기와 비교했고, 모두 같습니다.",
    "conv_dW": (
        "가중치 공유: 커널의 한 원소는 출력의 모든 위치에서 쓰이므로 그 기울기는 모든 위치에 걸친 합입니다. 이는 입력과 위에서 온 "
        "기울기의 상관(correlation)입니다 (s는 스트라이드, P는 패딩, 입력 밖의 원소는 0):"
    ),
    "conv_db": "필터의 편향은 모든 위치에 더해지므로 그 기울기는 위치에 걸친 위에서 온 기울기의 합입니다:",
    "conv_dX": (
        "입력에 대한 기울기는 위에서 온 기울기와 180도 돌린 커널의 완전 합성곱(full convolution)입니다. 각 입력 원소는 자신에게 "
        "곱해진 모든 커널 원소를 모읍니다 (출력 안의 정수 인덱스만 셉니다):"
    ),
    "maxpool_dX": (
        "최대 풀링은 위에서 온 기울기를 창에서 최댓값이었던 원소로 보냅니다 (H는 계단 함수). 스칼라 그래프는 최댓값의 도함수를 "
        "SymPy의 Max처럼 H(0) = 1/2로 둡니다: 두 원소가 같으면 각각 절반을 받습니다 (셋 이상이 같아도 각각 절반)."
    ),
    "avgpool_dX": "평균 풀링은 위에서 온 기울기를 창에 고르게 나눕니다:",
    "dense_dW": "가중치의 기울기는 그 유닛의 위에서 온 기울기에 그 가중치가 곱해지는 입력을 곱한 것입니다 (계층이 매 단계에 "
                "적용되면 단계에 걸쳐 더합니다):",
    "dense_db": "편향의 기울기는 그 유닛의 위에서 온 기울기입니다:",
    "dense_dX": "입력에 대한 기울기는 그 입력이 들어가는 유닛에 걸친 합입니다:",
    "stack_check": "수치 미분으로 확인",
    "stack_check_result": "중앙 차분이 {count}개 기울기 모두와 일치합니다. 가장 큰 상대 오차는 {error}입니다.",
    "stack_check_failed": "중앙 차분이 {count}개 중 {failed}개 기울기와 일치하지 않습니다.",
    "stack_after": "갱신 후",
    "stack_after_values": "학습률 {eta|로} 경사하강법을 한 번 적용하면:",
    "stack_after_loss": "손실이 {before}에서 {after|로} 줄어듭니다.",
}

#: Language -> the sentences above and those of the recurrent, normalisation and attention layers
#: (:mod:`symprop.document.layer_type_prose`), merged into :data:`symprop.document.i18n.LANGUAGES`.
LAYER_PROSE: Mapping[str, Mapping[str, str]] = {language: {**table, **TYPE_PROSE[language]} for language, table in
                                                (("en", ENGLISH), ("ko", KOREAN))}
