"""The revision page's stage diagram (HTML only): the stages as boxes in columns by
dependency depth, with an edge from each stage to the ones that wait for it.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from .model import StageOut

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 62, 50, 18, 10


class DagBox(BaseModel):
    stage: StageOut
    x: int
    y: int


class DagEdge(BaseModel):
    d: str
    done: bool


class DagLayout(BaseModel):
    width: int
    height: int
    boxes: list[DagBox]
    edges: list[DagEdge]
    box_w: int = BOX_W
    box_h: int = BOX_H


def dag_layout(stages: list[StageOut]) -> DagLayout:
    columns: dict[int, list[StageOut]] = defaultdict(list)
    for s in stages:
        columns[s.level].append(s)
    pos: dict[str, tuple[int, int]] = {}
    boxes = []
    for level in sorted(columns):
        for i, s in enumerate(columns[level]):
            x, y = PAD + level * (BOX_W + GAP_X), PAD + i * (BOX_H + GAP_Y)
            pos[s.key] = (x, y)
            boxes.append(DagBox(stage=s, x=x, y=y))
    by_key = {s.key: s for s in stages}
    edges = []
    for s in stages:
        x2, y2 = pos[s.key]
        for a in s.after:
            if a not in pos:
                continue
            x1, y1 = pos[a]
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H // 2, x2 - 6, y2 + BOX_H // 2
            mid = (sx + ex) // 2
            edges.append(DagEdge(d=f"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}", done=by_key[a].status == "done"))
    width = PAD * 2 + (max(columns, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(c) for c in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y
    return DagLayout(width=width, height=height, boxes=boxes, edges=edges)
