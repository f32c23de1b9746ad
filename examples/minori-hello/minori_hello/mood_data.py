"""The synthetic greetings ``hello.mood`` learns from (model card: docs/models/hello.mood.md).

There are no labelled greetings from users yet, so the model is trained on greetings composed
from phrase lists, in Japanese and English::

    [opener] core phrase [closing] ending        e.g.  "お疲れさまです。大漁でした！"

- The **core phrase** carries the mood. Cheerful ones thank, congratulate, rejoice or bring
  good news; plain ones state a fact, a plan or an acknowledgement. They speak of farm and
  harbour life (calves, nets, rice, tractors), the way the service's users write.
- **Openers** ("おはようございます。", "Hi, ") and **closings** ("よろしくお願いします") are
  shared by both moods, so they teach the model nothing about mood.
- **Endings** lean but do not decide: "！", "♪", ":)" are more frequent in cheerful greetings
  and also occur in plain ones; "。" and "." occur in both.
- **Label noise**: a label is flipped with probability ``LABEL_NOISE``, standing for the
  people who would call the same greeting differently. It caps any honest accuracy near
  ``1 - LABEL_NOISE``.
- **Held out by phrase**: ``HELD_OUT`` of the core phrases of each language and mood never
  appear in training; the test set is composed only from them. The metrics therefore measure
  greetings worded in ways the model has not seen, not recall of the phrase lists.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

GENERATOR_VERSION = 1
LABEL_NOISE = 0.03
HELD_OUT = 0.25
TRAIN_SIZE = 2400
TEST_SIZE = 800
JAPANESE_SHARE = 0.6

CHEERFUL = "cheerful"
PLAIN = "plain"

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "ja": {
        CHEERFUL: (
            "ありがとう",
            "ありがとうございます",
            "本当にありがとう",
            "手伝ってくれてありがとう",
            "いつもありがとうございます",
            "やった",
            "やったー",
            "最高",
            "最高の一日でした",
            "うれしい",
            "とても嬉しいです",
            "よかった",
            "無事に終わって良かったです",
            "おめでとう",
            "合格おめでとうございます",
            "楽しかった",
            "収穫祭が楽しみです",
            "いい天気で気持ちいい",
            "晴れて最高",
            "助かりました",
            "本当に助かりました",
            "今年は豊作です",
            "大漁でした",
            "すばらしい",
            "素晴らしい出来です",
            "感謝しています",
            "元気いっぱいです",
            "わくわくします",
            "幸せです",
            "子牛が無事に生まれました",
            "苗がよく育っています",
            "みんなのおかげです",
            "大成功でした",
            "美味しいお米ができました",
            "いい知らせがあります",
            "笑顔になりました",
            "最高の仲間です",
            "嬉しい報告です",
        ),
        PLAIN: (
            "今日は雨です",
            "明日は会議です",
            "了解しました",
            "田んぼを見回ります",
            "午後に出荷します",
            "あとで連絡します",
            "確認します",
            "資料を送ります",
            "水位を測りました",
            "曇りです",
            "風が強いです",
            "予定通りです",
            "集合は八時です",
            "少し遅れます",
            "書類を出しました",
            "餌をやりました",
            "網を直します",
            "特にありません",
            "雨が降りそうです",
            "道が混んでいます",
            "会議は三時からです",
            "軽トラを借ります",
            "肥料が届きました",
            "来週は休みです",
            "温度を記録しました",
            "船を出します",
            "点検をお願いします",
            "見積もりを送ります",
            "明日の天気を確認します",
            "在庫を数えました",
            "鍵を返しました",
            "申請書を書きます",
            "草刈りをします",
            "港に寄ります",
            "電話してください",
            "今日は作業なしです",
            "午前中は留守です",
            "地図を共有します",
        ),
    },
    "en": {
        CHEERFUL: (
            "thank you",
            "thanks a lot",
            "thank you so much for your help",
            "great",
            "great news",
            "wonderful",
            "awesome",
            "so happy today",
            "congratulations",
            "what a lovely day",
            "we did it",
            "amazing harvest this year",
            "love it",
            "fantastic work",
            "yay",
            "best day ever",
            "really appreciate it",
            "brilliant",
            "the calf was born healthy",
            "so glad it worked",
            "happy to hear that",
            "excellent catch today",
            "lovely weather",
            "cheers everyone",
            "delighted",
            "that made my day",
            "good job everyone",
            "nice work",
            "we are thrilled",
            "such a beautiful morning",
        ),
        PLAIN: (
            "see you at the meeting",
            "the meeting is at three",
            "it is raining today",
            "noted",
            "I will check the pump",
            "sending the report now",
            "the truck leaves at noon",
            "water level measured",
            "fields inspected",
            "running late",
            "ok",
            "the forecast says rain",
            "feed delivered",
            "nothing to report",
            "please call me",
            "the office is closed tomorrow",
            "I sent the invoice",
            "checking the nets",
            "the boat goes out at five",
            "temperature logged",
            "the form is attached",
            "back on Monday",
            "the road is closed",
            "inventory counted",
            "the tractor is in the shed",
            "please confirm the time",
            "minutes are on the drive",
            "fertilizer arrived",
            "the gate is locked",
            "pick up at the station",
        ),
    },
}

OPENERS = {
    "ja": (
        "",
        "",
        "おはようございます。",
        "こんにちは。",
        "皆さん、",
        "お疲れさまです。",
        "田中です。",
    ),
    "en": ("", "", "Hi, ", "Hello, ", "Morning all, ", "Hey team, ", "Dear all, "),
}
CLOSINGS = {
    "ja": ("", "", "", "。よろしくお願いします", "。以上です", "。また明日"),
    "en": ("", "", "", ". Regards", ". See you", ". Thanks"),
}
# (ending, weight) per language and mood.
ENDINGS: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {
    "ja": {
        CHEERFUL: (("！", 5), ("!", 2), ("！！", 2), ("♪", 1), ("😊", 1), ("。", 3), ("", 2)),
        PLAIN: (("。", 7), ("", 4), ("！", 1)),
    },
    "en": {
        CHEERFUL: (("!", 5), ("!!", 2), (" :)", 1), (".", 3), ("", 2)),
        PLAIN: ((".", 7), ("", 4), ("!", 1)),
    },
}


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class MoodData:
    train: Split
    test: Split
    seed: int

    def describe(self) -> dict[str, Any]:
        """The data description recorded in the artifact's metadata.json."""
        return {
            "source": "synthetic",
            "generator": f"{__name__} v{GENERATOR_VERSION}",
            "seed": self.seed,
            "rows": {"train": len(self.train.texts), "test": len(self.test.texts)},
            "train_classes": {m: self.train.labels.count(m) for m in (CHEERFUL, PLAIN)},
            "languages": {"ja": JAPANESE_SHARE, "en": round(1 - JAPANESE_SHARE, 2)},
            "label_noise": LABEL_NOISE,
            "held_out": (
                f"{HELD_OUT:.0%} of the core phrases of each language and mood, "
                "never seen in training; the test set is composed only from them"
            ),
        }


def held_out_phrases(rng: random.Random) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """For each (language, mood): (training phrases, held-out phrases)."""
    split = {}
    for language, moods in PHRASES.items():
        for mood, phrases in moods.items():
            shuffled = list(phrases)
            rng.shuffle(shuffled)
            cut = round(len(shuffled) * HELD_OUT)
            split[language, mood] = (shuffled[cut:], shuffled[:cut])
    return split


def compose(rng: random.Random, language: str, mood: str, phrase: str) -> str:
    endings, weights = zip(*ENDINGS[language][mood], strict=True)
    text = rng.choice(OPENERS[language]) + phrase + rng.choice(CLOSINGS[language])
    text += rng.choices(endings, weights)[0]
    if language == "en" and rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    return text


def _draw(rng: random.Random, phrases: dict[tuple[str, str], list[str]], size: int) -> Split:
    split = Split()
    for _ in range(size):
        language = "ja" if rng.random() < JAPANESE_SHARE else "en"
        mood = CHEERFUL if rng.random() < 0.5 else PLAIN
        text = compose(rng, language, mood, rng.choice(phrases[language, mood]))
        if rng.random() < LABEL_NOISE:
            mood = PLAIN if mood == CHEERFUL else CHEERFUL
        split.texts.append(text)
        split.labels.append(mood)
        split.languages.append(language)
    return split


def generate(seed: int, train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE) -> MoodData:
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    phrases = held_out_phrases(rng)
    train = _draw(rng, {key: seen for key, (seen, _) in phrases.items()}, train_size)
    test = _draw(rng, {key: unseen for key, (_, unseen) in phrases.items()}, test_size)
    return MoodData(train=train, test=test, seed=seed)
