"""Every prose string of a document, one table per language.

Placeholders ``{name}`` are filled by the templates with already-printed
math (the ``fill`` filter escapes the prose around them, never the math).
Korean follows the terms of the Korean tutorials: 순전파, 역전파, 연쇄법칙,
가중치, 편향, 활성화 함수, 손실 함수, 학습률, 경사하강법, 오차.
"""
from __future__ import annotations

import re

from typing import Mapping

from symprop.document.layer_prose import LAYER_PROSE

ENGLISH: Mapping[str, str] = {
    "default_title": "Backpropagation, step by step",
    "symbolic_only": "No values were given: this is the symbolic derivation only.",
    # 1. the network
    "network": "The network",
    "network_picture": "The network as a picture, with the weights on the edges:",
    "network_picture_gradients": "The network as a picture: each edge carries its weight and the gradient of the loss with respect to it.",
    "graph_picture": "Each edge carries its forward value (→) and the gradient flowing back along it (←):",
    "picture_summary": "The graph as a picture, each node with its value (too many edges to label; their numbers are in the equations below):",
    "picture_values": "weight or value",
    "network_layer_picture": "The network layer by layer, as it has too many units to draw one by one: a box per layer, each edge with the number of values it carries, the loss {output} last:",
    "picture_inputs": "{count} inputs",
    "picture_gradients": "gradient of {output}",
    "picture_forward": "forward value",
    "picture_backward": "gradient of {output} flowing back",
    "network_definitions": "Each node is defined from inputs, parameters and earlier nodes:",
    "activation_identities": "The activation function and its derivative:",
    "given_values": "The worked example starts from these values:",
    "learning_rate_given": "The learning rate is {eta}.",
    "col_symbol": "Symbol",
    "col_value": "Value",
    # 2. forward pass
    "forward": "Forward pass",
    "forward_intro": "Each equation of the forward pass, then the numbers, then its value:",
    # 3. loss
    "loss": "Loss",
    "loss_intro": "The loss function measures the error of the output:",
    "loss_upstream": (
        "The backward pass starts from a given upstream gradient {g}, one number per output, as a layer's "
        "backward(dout) receives it. The loss below is the one whose gradient with respect to each output "
        "is exactly that number, {rule}:"
    ),
    "loss_over_examples_mean": "These are the first example's numbers; over the {count} examples the mean loss is {value}.",
    "loss_over_examples_sum": "These are the first example's numbers; over the {count} examples the summed loss is {value}.",
    "loss_split": "One term per output, each with its value, and their sum:",
    "output": "Output",
    "output_intro": "The output of the graph:",
    # 4. to 6. parameters
    "output_parameters": "Output-layer weights",
    "output_parameters_intro": (
        "A weight of the output layer reaches the loss along a single path, so the chain rule is one product."
    ),
    "hidden_parameters": "Hidden-layer weights",
    "hidden_parameters_intro": (
        "A hidden weight reaches the loss through every node its unit feeds: the gradient is a sum over paths, "
        "one term per downstream node, and it reuses the factors already worked out."
    ),
    "biases": "Biases",
    "biases_intro": "A bias is a parameter like a weight, with local derivative 1.",
    "biases_updated": "This example updates the biases too.",
    "biases_not_updated": "This example updates the weights only: the biases keep their values.",
    "parameters": "Parameters",
    "parameters_intro": "The gradient of the output with respect to each parameter, by the chain rule.",
    "gradient_of": "The gradient with respect to {parameter}",
    "matrix_gradient_form": (
        "The whole gradient as one matrix expression, from SymPy's matrix calculus, proven equal to the gradient of "
        "every entry such as {entry} at random points:"
    ),
    "matrix_gradient_entrywise": (
        "SymPy's matrix calculus gives no matrix form proven here, so the gradient of {parameter} is the matrix of "
        "the gradients of its entries:"
    ),
    "matrix_entries_hidden": "The derivation of each entry of {parameter} is shown with the option matrix_entries.",
    "chain_rule": "By the chain rule:",
    "branch_upstream": "{node} feeds {count} nodes. The gradients at those nodes, reusing the factors already worked out:",
    "branch_sum": "The gradient at {node} is a sum with one term for each node it feeds:",
    "branch_again": "The gradient with respect to {node} was worked out above:",
    "each_factor": "Each factor:",
    "paths": "Written out, the {count} paths from the loss to {parameter} are:",
    "paths_not_listed": "There are {count} paths from the loss to {parameter}; the sums above add them up without listing them.",
    "product": "Multiplying the factors gives the gradient in forward quantities:",
    "product_through": "Multiplying the factors gives the gradient (written out in forward quantities it would "
                       "repeat the branch sum above at every layer, so it keeps that sum's name):",
    "examples_reduced": "Over the {count} examples, the mean of the gradients is {value}.",
    "examples_summed": "Over the {count} examples, the sum of the gradients is {value}.",
    "descent": "Gradient descent with learning rate {eta} updates the parameter:",
    "descent_symbolic": "Gradient descent with learning rate {eta}:",
    "not_updated": "This example does not update {parameter}.",
    "summary_layer": "Layer {layer} has {count} more parameters of the same form as {parameter}; they are not written out.",
    # 7. delta form
    "delta": "Delta form",
    "delta_intro": (
        "The same gradients through the deltas, the gradients of the loss with respect to each node, "
        "computed once per node from the output backwards:"
    ),
    "delta_gradients": "Each gradient is then a delta times a local derivative, and equals the result above:",
    "delta_inputs": "The gradients with respect to the inputs follow from the same deltas:",
    "delta_inputs_of_output": "The gradients of the output with respect to the inputs follow from the same deltas:",
    "matrix": "Matrix form",
    "matrix_intro": (
        "The same computation for whole layers, one formula per layer whatever its width; "
        "the entries of each delta vector are the deltas above:"
    ),
    "matrix_notation": (
        "The notation changes here to the vectors of the matrix form: {z} holds the pre-activations of "
        "layer 1 (its first entry is {net}), {a} their activations (the first is {out}), and {W} the "
        "weights into the layer, one row per unit."
    ),
    "matrix_layer": "Layer {layer}:",
    "matrix_batch": "For a batch of {m} examples, one column per example:",
    "matrix_verified": "Every entry of these matrix gradients was checked equal to the gradient of its weight above.",
    "layer_view": "Layers, forward and backward",
    "layer_view_intro": "The same network as a stack of layers, each with a forward and a backward pass:",
    "layer_forward": "{name} layer {layer}, forward:",
    "layer_backward": "backward:",
    "node_rules": "Node rules",
    "node_rules_intro": "How each node of the graph passes the gradient on:",
    "rule_add": "{node} is an add node (a sum): the gradient reaches {parent} unchanged, {passed}.",
    "rule_multiply": "{node} is a multiply node (a product): the gradient reaching {parent} is the upstream gradient times the other input, {passed}.",
    "rule_identity": "{node} copies {parent}: the gradient passes unchanged, {passed}.",
    "rule_function": "{node} applies a function to {parent}: the upstream gradient is multiplied by its derivative {local}.",
    "rule_branch": "{node} is a branch node feeding several nodes ({consumers}): what comes back along each is summed, {passed}.",
    # 8. check
    "check": "Gradient check",
    "check_intro": "Each gradient against central finite differences of the loss:",
    "col_parameter": "Parameter",
    "col_variable": "Variable",
    "col_symbolic": "Backpropagation",
    "col_numeric": "Finite differences",
    "col_relative_error": "Relative error",
    "col_agrees": "Agrees",
    "check_all_ok": "All gradients agree.",
    # 9. after the update
    "after": "After the update",
    "after_intro": "The forward pass again, with the updated parameters:",
    "col_node": "Node",
    "col_before": "Before",
    "col_after": "After",
    "loss_fell": "The loss falls from {before} to {after}.",
    "loss_rose": "The loss rises from {before} to {after}: the learning rate is too large for this step.",
    "loss_same": "The loss stays at {before}.",
    "training": "Training",
    "training_intro": "The loss over {steps} steps of gradient descent:",
    "col_step": "Step",
    "col_loss": "Loss",
    "training_plot": "The loss over the steps of gradient descent.",
    # a computational graph's output need not be a loss: the same sentences, of the output
    "network_of_output": "The computational graph",
    "paths_of_output": "Written out, the {count} paths from the output to {parameter} are:",
    "paths_not_listed_of_output": (
        "There are {count} paths from the output to {parameter}; the sums above add them up without listing them."
    ),
    "delta_intro_of_output": (
        "The same gradients through the deltas, the gradients of the output with respect to each node, "
        "computed once per node from the output backwards:"
    ),
    "check_intro_of_output": "Each gradient against central finite differences of the output:",
    "loss_fell_of_output": "The output falls from {before} to {after}.",
    "loss_rose_of_output": "The output rises from {before} to {after}.",
    "loss_same_of_output": "The output stays at {before}.",
    "training_intro_of_output": "The output over {steps} steps of gradient descent:",
    "col_loss_of_output": "Output",
    "training_plot_of_output": "The output over the steps of gradient descent.",
    # the interactive page (HTML): its controls and the lines of its stepper
    "page_hint": "Hover over or focus a weight or a bias to see its paths to the loss and its derivation; click a node for its value and adjoint.",
    "page_hint_layers": "Each box is a layer, and each edge carries the number of values passing from one layer to the next; the derivations are in the text.",
    "page_stepper": "Step through the example",
    "page_picture": "The network picture",
    "page_reset": "Reset",
    "page_back": "Back",
    "page_next": "Next",
    "page_all": "All steps",
    "page_ready": "Press Reset, then Next, to compute the forward pass node by node, then the backward pass and the update.",
    "page_step": "Step {step} of {steps}.",
    "page_forward": "Forward pass: {node} = {value}",
    "page_backward": "Backward pass: ∂{output}/∂{node} = {value}",
    "page_gradient": "Gradient: ∂{output}/∂{node} = {value}",
    "page_update": "Update: {node} = {before} → {value}",
    "page_updated_loss": "Loss after the update: {output} = {value}",
    "page_node": "{node}: value {value}; adjoint ∂{output}/∂{node} = {adjoint}",
    "page_theme": "Light and dark follow the system's setting.",
}

KOREAN: Mapping[str, str] = {
    "default_title": "역전파, 한 단계씩",
    "symbolic_only": "값이 주어지지 않아 기호로만 유도합니다.",
    "network": "신경망",
    "network_picture": "신경망 그림 (간선 위에 가중치):",
    "network_picture_gradients": "신경망 그림: 간선마다 가중치와 그 가중치에 대한 손실 함수의 기울기를 적었습니다.",
    "graph_picture": "각 간선에는 순전파 값(→)과 그 간선을 따라 거꾸로 흐르는 기울기(←)가 적혀 있습니다:",
    "picture_summary": "그래프 그림: 노드마다 그 값을 적었습니다 (간선이 많아 간선의 값은 아래 식에 있습니다):",
    "picture_values": "가중치 또는 값",
    "network_layer_picture": "유닛이 많아 하나씩 그리지 않고 계층 단위로 그린 신경망 그림입니다. 상자 하나가 계층 하나이고, 간선에는 그 간선으로 전달되는 값의 개수를 적었으며, 맨 끝의 {output|는} 손실입니다:",
    "picture_inputs": "입력 {count}개",
    "picture_gradients": "{output}의 기울기",
    "picture_forward": "순전파 값",
    "picture_backward": "거꾸로 흐르는 {output}의 기울기",
    "network_definitions": "각 노드는 입력, 매개변수, 앞선 노드로 정의됩니다:",
    "activation_identities": "활성화 함수와 그 도함수:",
    "given_values": "예제는 다음 값에서 시작합니다:",
    "learning_rate_given": "학습률은 {eta}입니다.",
    "col_symbol": "기호",
    "col_value": "값",
    "forward": "순전파",
    "forward_intro": "순전파의 각 식, 값을 대입한 식, 그 결과:",
    "loss": "손실 함수",
    "loss_intro": "손실 함수는 출력이 목표값에서 얼마나 벗어났는지를 나타냅니다:",
    "loss_upstream": (
        "역전파는 주어진 상류 기울기 {g}에서 시작합니다. 계층의 backward(dout)가 받는 것처럼 출력마다 수가 하나씩 "
        "있습니다. 아래 손실 함수는 각 출력에 대한 기울기가 바로 그 수가 되도록, 곧 {rule|가} 되도록 정한 것입니다:"
    ),
    "loss_over_examples_mean": "위는 첫 번째 샘플의 값이며, 샘플 {count}개에 대한 손실 함수의 평균은 {value}입니다.",
    "loss_over_examples_sum": "위는 첫 번째 샘플의 값이며, 샘플 {count}개에 대한 손실 함수의 합은 {value}입니다.",
    "loss_split": "출력마다 항이 하나씩이며, 각 항의 값과 그 합은 다음과 같습니다:",
    "output": "출력",
    "output_intro": "그래프의 출력:",
    "output_parameters": "출력층 가중치",
    "output_parameters_intro": "출력층 가중치에서 손실 함수까지는 경로가 하나뿐이므로 연쇄법칙은 곱 하나입니다.",
    "hidden_parameters": "은닉층 가중치",
    "hidden_parameters_intro": (
        "은닉층 가중치는 그 유닛이 연결된 모든 노드를 거쳐 손실 함수에 닿습니다. "
        "기울기는 경로에 대한 합으로, 아래쪽 노드마다 항이 하나씩이며 앞에서 구한 편미분은 다시 계산하지 않고 그대로 씁니다."
    ),
    "biases": "편향",
    "biases_intro": "편향도 가중치와 같은 매개변수이며 국소 도함수는 1입니다.",
    "biases_updated": "이 예제는 편향도 갱신합니다.",
    "biases_not_updated": "이 예제는 가중치만 갱신하므로 편향은 그대로입니다.",
    "parameters": "매개변수",
    "parameters_intro": "연쇄법칙으로 구한 각 매개변수에 대한 출력의 기울기입니다.",
    "gradient_of": "{parameter}에 대한 기울기",
    "matrix_gradient_form": (
        "SymPy의 행렬 미적분으로 구한 기울기 전체를 하나의 행렬 식으로 나타내며, 임의의 점에서 {entry} 같은 각 성분의 "
        "기울기와 같음을 확인했습니다:"
    ),
    "matrix_gradient_entrywise": (
        "SymPy의 행렬 미적분으로 확인된 행렬 식이 없으므로, {parameter}에 대한 기울기는 각 성분의 기울기로 이루어진 "
        "행렬입니다:"
    ),
    "matrix_entries_hidden": "{parameter}의 각 성분에 대한 유도는 matrix_entries 옵션으로 볼 수 있습니다.",
    "chain_rule": "연쇄법칙을 적용하면:",
    "branch_upstream": "{node|는} 노드 {count}개로 이어집니다. 앞에서 구한 편미분을 그대로 가져와 그 노드들의 기울기를 구하면:",
    "branch_sum": "{node}에 대한 기울기는 이어지는 노드마다 항이 하나인 합입니다:",
    "branch_again": "{node}에 대한 기울기는 앞에서 구했습니다:",
    "each_factor": "각 편미분을 계산하면:",
    "paths": "손실 함수에서 {parameter}까지의 경로 {count}개를 모두 쓰면:",
    "paths_not_listed": "손실 함수에서 {parameter}까지의 경로는 {count}개이며, 위의 합이 이를 나열하지 않고 더합니다.",
    "product": "편미분을 모두 곱하면 순전파 값으로 나타낸 기울기가 됩니다:",
    "product_through": "편미분을 모두 곱하면 기울기가 됩니다 (순전파 값으로 모두 풀어 쓰면 위의 분기 합이 층마다 되풀이되므로, "
                       "그 합은 이름으로 남겨 둡니다):",
    "examples_reduced": "샘플 {count}개에 대한 기울기의 평균은 {value}입니다.",
    "examples_summed": "샘플 {count}개에 대한 기울기의 합은 {value}입니다.",
    "descent": "학습률 {eta|로} 경사하강법을 적용해 매개변수를 갱신합니다:",
    "descent_symbolic": "학습률 {eta}의 경사하강법:",
    "not_updated": "이 예제에서는 {parameter|를} 갱신하지 않습니다.",
    "summary_layer": "{layer}층에는 {parameter|와} 같은 꼴의 매개변수가 {count}개 더 있으며 생략합니다.",
    "delta": "델타 형태",
    "delta_intro": "같은 기울기를 델타, 곧 각 노드에 대한 손실 함수의 기울기로 구합니다. 출력에서부터 노드마다 한 번씩 계산합니다:",
    "delta_gradients": "각 기울기는 델타와 국소 도함수의 곱이며 위의 결과와 같습니다:",
    "delta_inputs": "입력에 대한 손실 함수의 기울기도 같은 델타로 구합니다:",
    "delta_inputs_of_output": "입력에 대한 출력의 기울기도 같은 델타로 구합니다:",
    "matrix": "행렬 형태",
    "matrix_intro": "층 전체에 대한 같은 계산을 행렬로 쓰면 층의 너비와 상관없이 층마다 식 하나이며, 각 델타 벡터의 성분은 위의 델타입니다:",
    "matrix_notation": (
        "여기서부터는 행렬 형태의 벡터로 표기를 바꿉니다. {z}에는 1층의 활성화 전 값이 들어 있고(첫 성분이 {net}), "
        "{a}에는 그 활성화 값이(첫 성분이 {out}), {W}에는 그 층으로 들어오는 가중치가 유닛마다 한 행씩 들어 있습니다."
    ),
    "matrix_layer": "{layer}층:",
    "matrix_batch": "샘플 {m}개로 이루어진 배치에서는 샘플마다 열이 하나씩입니다:",
    "matrix_verified": "이 행렬 기울기의 모든 성분이 위에서 구한 각 가중치의 기울기와 같음을 확인했습니다.",
    "layer_view": "계층의 순전파와 역전파",
    "layer_view_intro": "같은 신경망을 계층을 쌓은 것으로 보면, 계층마다 순전파와 역전파가 있습니다:",
    "layer_forward": "{name} 계층({layer}층)의 순전파:",
    "layer_backward": "역전파:",
    "node_rules": "노드별 역전파 규칙",
    "node_rules_intro": "계산 그래프의 각 노드가 기울기를 전달하는 방식:",
    "rule_add": "{node|는} 덧셈 노드이므로 {parent}에 기울기가 그대로 전달됩니다: {passed}.",
    "rule_multiply": "{node|는} 곱셈 노드이므로 {parent}에 전달되는 기울기는 상류의 기울기에 다른 입력을 곱한 값입니다: {passed}.",
    "rule_identity": "{node|는} {parent|를} 그대로 복사하므로 기울기도 그대로 전달됩니다: {passed}.",
    "rule_function": "{node|는} {parent}에 함수를 적용하므로 상류의 기울기에 그 도함수 {local|를} 곱합니다.",
    "rule_branch": "{node|는} 여러 노드({consumers})로 값을 보내는 분기 노드이므로 각 경로에서 돌아온 기울기를 더합니다: {passed}.",
    "check": "기울기 검증",
    "check_intro": "각 기울기를 손실 함수의 중앙 차분과 비교합니다:",
    "col_parameter": "매개변수",
    "col_variable": "변수",
    "col_symbolic": "역전파",
    "col_numeric": "수치 미분",
    "col_relative_error": "상대 오차",
    "col_agrees": "일치",
    "check_all_ok": "모든 기울기가 일치합니다.",
    "after": "갱신 후",
    "after_intro": "갱신된 매개변수로 다시 순전파합니다:",
    "col_node": "노드",
    "col_before": "이전",
    "col_after": "이후",
    "loss_fell": "손실이 {before}에서 {after|로} 줄었습니다.",
    "loss_rose": "손실이 {before}에서 {after|로} 늘었습니다. 이 단계에는 학습률이 너무 큽니다.",
    "loss_same": "손실은 {before} 그대로입니다.",
    "training": "학습",
    "training_intro": "경사하강법 {steps}단계 동안의 손실:",
    "col_step": "단계",
    "col_loss": "손실",
    "training_plot": "경사하강법 단계에 따른 손실.",
    "network_of_output": "계산 그래프",
    "paths_of_output": "출력에서 {parameter}까지의 경로 {count}개를 모두 쓰면:",
    "paths_not_listed_of_output": "출력에서 {parameter}까지의 경로는 {count}개이며, 위의 합이 이를 나열하지 않고 더합니다.",
    "delta_intro_of_output": "같은 기울기를 델타, 곧 각 노드에 대한 출력의 기울기로 구합니다. 출력에서부터 노드마다 한 번씩 계산합니다:",
    "check_intro_of_output": "각 기울기를 출력의 중앙 차분과 비교합니다:",
    "loss_fell_of_output": "출력이 {before}에서 {after|로} 줄었습니다.",
    "loss_rose_of_output": "출력이 {before}에서 {after|로} 늘었습니다.",
    "loss_same_of_output": "출력은 {before} 그대로입니다.",
    "training_intro_of_output": "경사하강법 {steps}단계 동안의 출력:",
    "col_loss_of_output": "출력",
    "training_plot_of_output": "경사하강법 단계에 따른 출력.",
    "page_hint": "가중치나 편향에 마우스를 올리거나 포커스를 두면 손실 함수까지의 경로와 그 유도가 강조됩니다. 노드를 누르면 그 값과 역전파 기울기가 나옵니다.",
    "page_hint_layers": "상자 하나가 계층 하나이고, 간선의 수는 한 계층에서 다음 계층으로 전달되는 값의 개수입니다. 유도 과정은 본문에 있습니다.",
    "page_stepper": "예제를 한 단계씩",
    "page_picture": "신경망 그림",
    "page_reset": "처음으로",
    "page_back": "이전",
    "page_next": "다음",
    "page_all": "모든 단계",
    "page_ready": "처음으로를 누른 뒤 다음을 누르면 순전파, 역전파, 갱신을 노드 하나씩 계산합니다.",
    "page_step": "{steps}단계 중 {step}단계.",
    "page_forward": "순전파: {node} = {value}",
    "page_backward": "역전파: ∂{output}/∂{node} = {value}",
    "page_gradient": "기울기: ∂{output}/∂{node} = {value}",
    "page_update": "갱신: {node} = {before} → {value}",
    "page_updated_loss": "갱신 후 손실: {output} = {value}",
    "page_node": "{node}: 값 {value}, 역전파 기울기 ∂{output}/∂{node} = {adjoint}",
    "page_theme": "밝은 테마와 어두운 테마는 시스템 설정을 따릅니다.",
}

#: The sentences of layer-stack documents live in their own module and join each table here.
ENGLISH, KOREAN = {**ENGLISH, **LAYER_PROSE["en"]}, {**KOREAN, **LAYER_PROSE["ko"]}
LANGUAGES: Mapping[str, Mapping[str, str]] = {"en": ENGLISH, "ko": KOREAN}


#: Korean particles that follow the final sound of the word before them:
#: (after a vowel, after a consonant); ``로`` also follows a final ㄹ.
PARTICLES = {"는": ("는", "은"), "를": ("를", "을"), "가": ("가", "이"), "와": ("와", "과"), "로": ("로", "으로")}

#: The last consonant of each digit's Korean reading ("" for a vowel): 영 일 이 삼 사 오 육 칠 팔 구.
DIGIT_FINALS = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ", "9": ""}
#: Latin letters whose Korean reading ends in a consonant (엘 엠 엔 알); the others end in a vowel.
LETTER_FINALS = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
#: Greek letters whose reading ends in a consonant (입실론, 오미크론, 웁실론); the others end in a vowel.
GREEK_FINALS = {"epsilon": "ㄴ", "varepsilon": "ㄴ", "omicron": "ㄴ", "upsilon": "ㄴ"}
#: Commands that set type or space and are not read aloud.
_SILENT = {"left", "right", "mathrm", "mathbf", "operatorname", "text", "quad", "qquad", "big", "Big", "cdot",
           "times", "dots", "ldots", "cdots", "frac", "prime"}
_SPOKEN = re.compile(r"\\([A-Za-z]+)|(\d+(?:\.\d+)?)|([A-Za-z])")
_WITH_PARTICLE = re.compile(r"\{(\w+)\|(\w+)\}")


def final_sound(text: str) -> str:
    """The last consonant of ``text`` read aloud in Korean ("" when it ends in a vowel).

    ``text`` is LaTeX or plain text; what is read is its last letter, digit or
    Greek letter (``out_{h1}``: 일, ``w_{5}``: 오, ``E_{total}``: 엘, ``\\eta``: 에타).
    A whole number ending in 0 is read by place (십, 백, 천, 만): a consonant.
    """
    spoken = [m for m in _SPOKEN.finditer(text) if not (m.group(1) and m.group(1) in _SILENT)]
    if not spoken:
        return ""
    command, number, letter = spoken[-1].groups()
    if command:
        return GREEK_FINALS.get(command, "")
    if number:
        whole = "." not in number
        return "ㅂ" if whole and number.endswith("0") and number != "0" else DIGIT_FINALS[number[-1]]
    return LETTER_FINALS.get(letter.lower(), "")


def particle(base: str, before: str) -> str:
    """The form of particle ``base`` (``는``, ``를``, ``가``, ``와``, ``로``) after ``before``."""
    after_vowel, after_consonant = PARTICLES[base]
    final = final_sound(before)
    if not final or (base == "로" and final == "ㄹ"):
        return after_vowel
    return after_consonant


def with_particles(sentence: str, values: Mapping[str, str]) -> str:
    """``sentence`` with each ``{name|particle}`` written ``{name}`` and the particle's form
    that follows ``values[name]`` (``{node|는}`` before ``out_{h1}``: ``{node}은``)."""
    return _WITH_PARTICLE.sub(lambda m: "{%s}%s" % (m.group(1), particle(m.group(2), values[m.group(1)])), sentence)


#: The suffix of a sentence's variant for a computational graph, whose output need not be a loss.
OF_OUTPUT = "_of_output"


def wording(key: str, of_output: bool) -> str:
    """``key``, or its variant that speaks of the output instead of a loss (``paths_of_output``)."""
    return key + OF_OUTPUT if of_output and key + OF_OUTPUT in ENGLISH else key


def prose(lang: str) -> Mapping[str, str]:
    """The prose table of ``lang`` (``en`` or ``ko``)."""
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGUAGES)}") from None
