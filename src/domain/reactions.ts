import type { MessageReaction } from './gateway-events';

/**
 * A message's reactions after `added`: one per sender, the latest by timestamp (a later one with
 * the same timestamp wins). A removal (`emoji: ""`) is kept as a marker, so that an older reaction
 * arriving late does not come back; `visibleReactions` leaves the markers out.
 */
export function mergeReactions(reactions: readonly MessageReaction[] | null | undefined, added: readonly MessageReaction[]): MessageReaction[] {
  const bySender = new Map<string, MessageReaction>();
  for (const reaction of [...(reactions ?? []), ...added]) {
    const stored = bySender.get(reaction.senderId);
    if (!stored || reaction.timestamp >= stored.timestamp) bySender.set(reaction.senderId, reaction);
  }
  return [...bySender.values()];
}

/** The reactions a message shows: removals left out, oldest first. */
export function visibleReactions(reactions: readonly MessageReaction[] | null): MessageReaction[] {
  return (reactions ?? [])
    .filter((reaction) => reaction.emoji !== '')
    .sort((a, b) => a.timestamp - b.timestamp || (a.senderId < b.senderId ? -1 : 1));
}
