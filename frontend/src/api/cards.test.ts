import { describe, expect, it } from "vitest";
import { cardsSince, mergeCard } from "./task";
import type { Card } from "./types";

const card = (over: Partial<Card>): Card => ({ card_id: "default", type: "default", attempt: 0, final: false, updated_at: 1, seq: 1, ...over }) as Card;

describe("cards subscription", () => {
  it("resumes from the newest seq the list showed", () => {
    expect(cardsSince([card({ seq: 4 }), card({ card_id: "b", seq: 9 }), card({ card_id: "c", seq: null })])).toBe(9);
  });
  it("replays the task's cards from the start when none was listed", () => {
    expect(cardsSince([])).toBe(0);
    expect(cardsSince([card({ seq: null })])).toBe(0);
  });
  it("a replayed older version never replaces a newer or final one", () => {
    const final = card({ final: true, updated_at: 5, seq: 7 });
    expect(mergeCard([final], card({ updated_at: 4, seq: 6 }))).toEqual([final]);
    expect(mergeCard([card({ updated_at: 4 })], final)).toEqual([final]);
  });
});
