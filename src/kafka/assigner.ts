import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Assigns by partition number: partition p of every subscribed topic goes to the same member,
 * so a processor reading several co-partitioned topics owns one "task" per partition number,
 * with one state store and one transactional producer for it (as Kafka Streams does). Members
 * are sorted by id and partition numbers dealt round-robin, so the result is deterministic.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'ShopforceCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
    const maxPartitions = Math.max(0, ...[...counts.values()].map((ps) => ps.length));
    const plan = new Map(memberIds.map((id) => [id, {} as Record<string, number[]>]));
    for (let p = 0; p < maxPartitions; p++) {
      const owner = plan.get(memberIds[p % memberIds.length])!;
      for (const [topic, ids] of counts) {
        if (!ids.includes(p)) continue;
        (owner[topic] ??= []).push(p);
      }
    }
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: plan.get(memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'ShopforceCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});

/** Gives the (single) member of a private group exactly the listed partitions: used to read changelogs. */
export function fixedAssigner(assignment: Record<string, number[]>): PartitionAssigner {
  return () => ({
    name: 'ShopforceFixed',
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? assignment : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: 'ShopforceFixed', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
