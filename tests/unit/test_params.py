from pipeline.params import flatten, load_params


def test_flatten_uses_dvc_dotted_keys():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_params_file_has_a_section_per_stage():
    params = load_params()
    assert {"prepare", "pretrain", "finetune", "evaluate", "export", "model", "runtime", "seed"} <= set(params)
