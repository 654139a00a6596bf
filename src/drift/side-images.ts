/**
 * What a side holds of an entity, as streams in key order: one image per record of each part
 * (a shop row, a Salesforce record), then everything of one key gathered into the kept-parts shape
 * the reconciler builds canonical records from (src/processors/reconciler/images.ts).
 */
import type { Parts, PartSpec } from '../entities/parts.ts';
import { compareKeys } from './key-order.ts';

/** One record of one part of an entity, as a side holds it now. */
export interface PartImage {
  key: string;
  /** Shop table or Salesforce object. */
  part: string;
  /** Shop row id or Salesforce record id. */
  recordId: string;
  image: Record<string, unknown>;
}

/** Everything one side holds of one entity key. */
export interface SideRecord {
  key: string;
  images: PartImage[];
}

/** Key, then part, then record id: a total order, so equal inputs sort the same every time. */
export function compareImages(a: PartImage, b: PartImage): number {
  return compareKeys(a.key, b.key) || (a.part < b.part ? -1 : a.part > b.part ? 1 : 0) || (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0);
}

/** Merges streams that are each in key order into one stream in key order. */
export async function* mergeInKeyOrder(streams: AsyncIterable<PartImage>[]): AsyncGenerator<PartImage> {
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const heads = await Promise.all(its.map((it) => it.next()));
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      if (!heads[i]!.done && (min < 0 || compareKeys(heads[i]!.value.key, heads[min]!.value.key) < 0)) min = i;
    }
    if (min < 0) return;
    yield heads[min]!.value as PartImage;
    heads[min] = await its[min]!.next();
  }
}

/**
 * Gathers consecutive images of one key. Fails when the stream goes back in key order: a side that
 * does not sort as the check expects would otherwise show records as missing that are not.
 */
export async function* groupByKey(images: AsyncIterable<PartImage>, side: string): AsyncGenerator<SideRecord> {
  let current: SideRecord | undefined;
  for await (const image of images) {
    if (current && image.key === current.key) {
      current.images.push(image);
      continue;
    }
    if (current) {
      if (compareKeys(image.key, current.key) < 0) throw new Error(`${side}: ${image.part} records are not in key order (${image.key} after ${current.key})`);
      yield current;
    }
    current = { key: image.key, images: [image] };
  }
  if (current) yield current;
}

/** The kept-parts shape of one side's images: a many-part with no records is known empty, not unknown. */
export function partsOf(specs: Record<string, PartSpec>, images: PartImage[]): Parts {
  const parts: Parts = {};
  for (const spec of Object.values(specs)) if (spec.many) parts[spec.as] = {};
  for (const img of images) {
    const spec = specs[img.part];
    if (!spec) continue;
    if (spec.many) (parts[spec.as] as Record<string, Record<string, unknown>>)[img.recordId] = img.image;
    else parts[spec.as] = img.image;
  }
  return parts;
}
