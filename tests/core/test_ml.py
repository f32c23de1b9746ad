"""Predictors: artifacts saved with skops and checked before loading, the ``minori ml``
commands, and the example plugin's ``hello.mood`` model end to end."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
import sklearn
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from core.app import create_app
from core.cli import main
from core.clock import FakeClock
from core.ml import artifacts
from core.ml.artifacts import ArtifactError
from core.ml.registry import PredictorRegistry
from core.ml.training import TrainingRun
from core.registry import PluginRegistry
from core.settings import load_plugins_file, load_settings
from tests.conftest import PASSWORD, ROOT, TEST_SECRET, World, base_settings
from tests.support import Api

SHIPPED = ROOT / "models_ml" / "artifacts"
RETRAIN = "minori ml train hello.mood"
GREETINGS = "/api/v1/hello/greetings"
TEXTS = [
    "ありがとう！",
    "今日は雨です",
    "やったー、最高の天気！",
    "The meeting is at ten.",
    "Wonderful harvest today!",
    "明日は休みです。",
]
METADATA_FIELDS = {
    "format",
    "predictor",
    "trained_at",
    "sha256",
    "sklearn_version",
    "skops_version",
    "python_version",
    "estimator",
    "features",
    "data",
    "metrics",
}


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """A copy of the shipped artifacts, free to break."""
    copy = tmp_path / "artifacts"
    shutil.copytree(SHIPPED, copy)
    return copy


def mood_dir(models: Path) -> Path:
    return models / "hello" / "mood"


def predictors(models: Path) -> PredictorRegistry:
    settings = load_settings(
        {"MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml")},
        database_url="sqlite://:memory:",
        secret_key=TEST_SECRET,
        models_dir=str(models),
    )
    clock = FakeClock(datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    return PluginRegistry.load(settings, clock).services.predictors


def cli_env(models: Path) -> dict[str, str]:
    return {
        "MINORI_PLUGINS_FILE": str(ROOT / "plugins.toml"),
        "MINORI_SECRET_KEY": TEST_SECRET,
        "MINORI_DATABASE_URL": "sqlite://:memory:",
        "MINORI_MODELS_DIR": str(models),
    }


def flip_a_byte(path: Path) -> None:
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))


def edit_metadata(directory: Path, **changes: Any) -> None:
    path = directory / artifacts.METADATA_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(changes)
    path.write_text(json.dumps(document), encoding="utf-8")


class Shout(TransformerMixin, BaseEstimator):
    """A transformer from outside scikit-learn: skops does not trust it by default."""

    def fit(self, x: Any, y: Any = None) -> Shout:
        return self

    def transform(self, x: Any) -> list[str]:
        return [str(t).upper() for t in x]


SHOUT = f"{Shout.__module__}.{Shout.__qualname__}"


def shouting_model() -> Any:
    return make_pipeline(Shout(), TfidfVectorizer(), LogisticRegression()).fit(
        ["thanks!", "noted", "great!", "ok"], ["cheerful", "plain", "cheerful", "plain"]
    )


def save_small(directory: Path, estimator: Any, **options: Any) -> artifacts.ArtifactMetadata:
    return artifacts.save(
        directory,
        estimator,
        predictor="test.shout",
        trained_at=datetime(2026, 1, 2, tzinfo=UTC),
        data={"source": "four strings"},
        metrics={"accuracy": 1.0},
        **options,
    )


# --- artifacts -----------------------------------------------------------------------------


def test_training_is_deterministic_and_the_saved_model_predicts_the_same(tmp_path: Path) -> None:
    registered = predictors(tmp_path / "empty").registered("hello.mood")
    assert registered.spec.train is not None
    reports: list[tuple[int, int, str]] = []
    run = TrainingRun(
        predictor="hello.mood",
        context=registered.context,
        on_progress=lambda *r: reports.append(r),
    )
    first = registered.spec.train(run)
    second = registered.spec.train(TrainingRun(predictor="hello.mood", context=registered.context))
    assert [(done, total) for done, total, _ in reports] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert first.metrics == second.metrics
    assert first.data == second.data
    first_lr, second_lr = first.estimator[-1], second.estimator[-1]
    assert np.array_equal(first_lr.coef_, second_lr.coef_)

    saved = artifacts.save(
        tmp_path / "saved",
        first.estimator,
        predictor="hello.mood",
        trained_at=datetime(2026, 11, 26, tzinfo=UTC),
        data=first.data,
        metrics=first.metrics,
    )
    estimator, metadata = artifacts.load(tmp_path / "saved", predictor="hello.mood")
    assert metadata == saved
    assert list(estimator.predict(TEXTS)) == list(first.estimator.predict(TEXTS))
    assert np.array_equal(estimator.predict_proba(TEXTS), first.estimator.predict_proba(TEXTS))


def test_the_shipped_artifact_loads_with_a_version_naming_date_and_hash(models_dir: Path) -> None:
    registry = predictors(models_dir)
    loaded = registry.get("hello.mood")
    metadata = json.loads((mood_dir(models_dir) / "metadata.json").read_text(encoding="utf-8"))
    assert set(metadata) == METADATA_FIELDS
    day = metadata["trained_at"][:10]
    assert loaded.version == f"hello.mood@{day}-{metadata['sha256'][:8]}"
    assert loaded.metadata.sklearn_version == sklearn.__version__
    assert registry.get("hello.mood") is loaded  # loaded once
    assert (mood_dir(models_dir) / "model.skops").stat().st_size < 1024 * 1024


def test_a_changed_byte_refuses_to_load_naming_the_retrain_command(models_dir: Path) -> None:
    flip_a_byte(mood_dir(models_dir) / "model.skops")
    with pytest.raises(ArtifactError) as refused:
        predictors(models_dir).get("hello.mood")
    message = str(refused.value)
    assert "sha256" in message and "changed after training" in message
    assert RETRAIN in message


def test_an_artifact_saved_under_another_scikit_learn_version_refuses(models_dir: Path) -> None:
    edit_metadata(mood_dir(models_dir), sklearn_version="1.5.2")
    with pytest.raises(ArtifactError) as refused:
        predictors(models_dir).get("hello.mood")
    message = str(refused.value)
    assert "scikit-learn 1.5.2" in message
    assert f"this environment has {sklearn.__version__}" in message
    assert RETRAIN in message


def test_a_missing_or_unreadable_metadata_file_refuses(models_dir: Path) -> None:
    (mood_dir(models_dir) / "metadata.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"metadata\.json is not valid") as refused:
        predictors(models_dir).get("hello.mood")
    assert RETRAIN in str(refused.value)
    shutil.rmtree(mood_dir(models_dir))
    with pytest.raises(ArtifactError, match=r"metadata\.json is missing") as refused:
        predictors(models_dir).get("hello.mood")
    assert RETRAIN in str(refused.value)


def test_an_artifact_holding_an_untrusted_type_refuses_to_load(tmp_path: Path) -> None:
    model = shouting_model()
    # Training never writes what loading would refuse.
    with pytest.raises(ArtifactError, match=SHOUT):
        save_small(tmp_path / "refused", model)
    assert not (tmp_path / "refused").exists()

    save_small(tmp_path / "shout", model, trusted_types=(SHOUT,))
    with pytest.raises(ArtifactError) as refused:
        artifacts.load(tmp_path / "shout", predictor="test.shout")
    message = str(refused.value)
    assert f"not trusted: {SHOUT}" in message
    assert "minori ml train test.shout" in message

    # Listed by the predictor's spec, the same file loads.
    estimator, _ = artifacts.load(
        tmp_path / "shout", predictor="test.shout", trusted_types=(SHOUT,)
    )
    assert list(estimator.predict(["great!"])) == list(model.predict(["great!"]))


def test_metadata_of_another_predictor_refuses(tmp_path: Path) -> None:
    save_small(tmp_path / "shout", shouting_model(), trusted_types=(SHOUT,))
    with pytest.raises(ArtifactError, match=r"describes 'test\.shout'"):
        artifacts.load(tmp_path / "shout", predictor="hello.mood", trusted_types=(SHOUT,))


# --- the minori ml commands ----------------------------------------------------------------


def test_verify_passes_on_the_shipped_artifacts_and_fails_on_a_broken_one(
    models_dir: Path,
) -> None:
    runner = CliRunner()
    passed = runner.invoke(main, ["ml", "verify"], env=cli_env(models_dir))
    assert passed.exit_code == 0, passed.output
    assert "ok      hello.mood@" in passed.output

    flip_a_byte(mood_dir(models_dir) / "model.skops")
    failed = runner.invoke(main, ["ml", "verify"], env=cli_env(models_dir))
    assert failed.exit_code == 1, failed.output
    assert "FAILED  hello.mood:" in failed.output
    assert RETRAIN in failed.output
    assert re.search(r"1 of \d+ predictors cannot be loaded", failed.output), failed.output


def test_verify_fails_when_an_artifact_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ml", "verify"], env=cli_env(tmp_path / "none"))
    assert result.exit_code == 1
    assert "metadata.json is missing" in result.output and RETRAIN in result.output


def test_train_writes_the_artifact_and_prints_held_out_metrics(tmp_path: Path) -> None:
    models = tmp_path / "artifacts"
    # The other plugins' shipped artifacts, so that verify judges only the one retrained.
    shutil.copytree(ROOT / "models_ml" / "artifacts", models)
    shutil.rmtree(mood_dir(models))
    runner = CliRunner()
    result = runner.invoke(main, ["ml", "train", "hello.mood"], env=cli_env(models))
    assert result.exit_code == 0, result.output
    assert "training hello.mood" in result.output
    assert "held-out metrics:" in result.output

    metadata = json.loads((mood_dir(models) / "metadata.json").read_text(encoding="utf-8"))
    assert set(metadata) == METADATA_FIELDS
    assert metadata["predictor"] == "hello.mood"
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["estimator"] == "sklearn.pipeline.Pipeline"
    assert metadata["data"]["source"] == "synthetic"
    assert metadata["data"]["rows"] == {"train": 2400, "test": 800}
    assert {"accuracy", "f1_cheerful", "roc_auc"} <= set(metadata["metrics"])
    for name, value in metadata["metrics"].items():
        assert f"{name}" in result.output and f"{value:.4f}" in result.output
    blob = (mood_dir(models) / "model.skops").read_bytes()
    assert metadata["sha256"] == artifacts.sha256(blob)
    assert datetime.fromisoformat(metadata["trained_at"]).tzinfo is not None
    version = f"hello.mood@{metadata['trained_at'][:10]}-{metadata['sha256'][:8]}"
    assert f"trained {version}" in result.output

    # Same generator, same seed: the same model as the shipped one.
    shipped = json.loads((mood_dir(SHIPPED) / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["metrics"] == shipped["metrics"]
    assert metadata["data"] == shipped["data"]

    verified = runner.invoke(main, ["ml", "verify"], env=cli_env(models))
    assert verified.exit_code == 0, verified.output
    assert f"ok      {version}" in verified.output


def test_train_names_the_known_predictors_when_given_an_unknown_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ml", "train", "hello.nope"], env=cli_env(tmp_path))
    assert result.exit_code == 1
    assert "no predictor 'hello.nope'" in result.output and "hello.mood" in result.output


def test_list_shows_each_predictor_and_its_version(models_dir: Path) -> None:
    result = CliRunner().invoke(main, ["ml", "list"], env=cli_env(models_dir))
    assert result.exit_code == 0, result.output
    assert "hello.mood" in result.output and "hello.mood@" in result.output


# --- the example plugin through the loaded model ------------------------------------------


async def test_the_example_route_classifies_a_greeting_as_cheerful(api: Api, world: World) -> None:
    response = await api.post(
        GREETINGS, "farmer", json={"organization_id": world.org_ids["farm"], "text": "ありがとう！"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["mood"] == "cheerful"


@pytest.fixture
async def model_only_api(
    database_url: str, world: World, clock: FakeClock, models_dir: Path
) -> AsyncIterator[tuple[Api, Any]]:
    """The app with no cheerful words configured: every mood comes from the model."""
    entries = load_plugins_file(ROOT / "plugins.toml")
    hello = msgspec.structs.replace(entries["hello"], settings={"cheerful_words": []})
    settings = base_settings(
        database_url, plugins={**entries, "hello": hello}, models_dir=str(models_dir)
    )
    app = create_app(settings, clock=clock, run_jobs=False)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Api(client, PASSWORD), app


async def test_without_cheerful_words_the_mood_comes_from_the_loaded_model(
    model_only_api: tuple[Api, Any], world: World, models_dir: Path
) -> None:
    api, app = model_only_api
    moods = {}
    for text in (
        "ありがとう！",
        "今日は雨です",
        "やったー、最高の天気！",
        "The meeting is at ten.",
    ):
        response = await api.post(
            GREETINGS, "farmer", json={"organization_id": world.org_ids["farm"], "text": text}
        )
        assert response.status_code == 201, response.text
        moods[text] = response.json()["mood"]
    assert moods == {
        "ありがとう！": "cheerful",
        "今日は雨です": "plain",
        "やったー、最高の天気！": "cheerful",
        "The meeting is at ten.": "plain",
    }
    loaded = app.state.registry.services.predictors.get("hello.mood")
    sha = json.loads((mood_dir(models_dir) / "metadata.json").read_text(encoding="utf-8"))["sha256"]
    assert loaded.version.endswith(f"-{sha[:8]}")
