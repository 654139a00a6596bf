import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** What a member says it holds when it (re)joins: topic → partitions. */
export type Holdings = Record<string, number[]>;

const NAME = 'ShopforceSticky';

/**
 * Never moves a partition away from a live member: each member tells the group, in its join
 * metadata, the partitions it holds (`held()`), and the leader leaves them where they are. Only
 * partitions nobody live holds (new ones, or those of a member that left or was evicted) are dealt,
 * one at a time, to the member holding the fewest (ties: lowest member id). So a partition has one
 * holder at a time as long as a holder stops its work before it leaves the group; the price is
 * balance: a copy that joins a group whose partitions are all held gets none until a holder leaves.
 */
export function stickyAssigner(held: () => Holdings): PartitionAssigner {
  return ({ cluster }) => ({
    name: NAME,
    version: 1,
    async assign({ members, topics }) {
      const ids = members.map((m) => m.memberId).sort();
      const plan = new Map(ids.map((id) => [id, {} as Holdings]));
      const load = new Map(ids.map((id) => [id, 0]));
      const claims = new Map<string, string>(); // `${topic}:${p}` → member id
      for (const m of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
        const claimed = decodeHoldings(m.memberMetadata);
        for (const [topic, partitions] of Object.entries(claimed)) {
          for (const p of partitions) {
            const key = `${topic}:${p}`;
            if (!claims.has(key)) claims.set(key, m.memberId);
          }
        }
      }
      for (const topic of [...topics].sort()) {
        const partitions = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
        const unclaimed: number[] = [];
        for (const p of partitions) {
          const holder = claims.get(`${topic}:${p}`);
          if (holder === undefined) { unclaimed.push(p); continue; }
          (plan.get(holder)![topic] ??= []).push(p);
          load.set(holder, load.get(holder)! + 1);
        }
        for (const p of unclaimed) {
          const least = ids.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
          (plan.get(least)![topic] ??= []).push(p);
          load.set(least, load.get(least)! + 1);
        }
      }
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: plan.get(memberId)!, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(held())) }) };
    },
  });
}

function decodeHoldings(metadata: Buffer): Holdings {
  const { userData } = AssignerProtocol.MemberMetadata.decode(metadata) ?? { userData: Buffer.alloc(0) };
  if (!userData || userData.length === 0) return {};
  try {
    return JSON.parse(userData.toString('utf8')) as Holdings;
  } catch {
    return {};
  }
}
