import type { FieldDef, ObjectDef, OrgModel } from '../model/types.ts';
import type { Condition, FieldPath, Literal, OrderItem, SoqlQuery } from './ast.ts';
import { SoqlError, located } from './errors.ts';
import { parseSoql } from './parser.ts';
import {
  compareValues, dateLiteralRange, isNull, likeMatcher, normalize, sameId, soapTypeName, unescapeLikeEscapes,
  valueClass, type ValueClass,
} from './values.ts';

export type SoqlRecord = Record<string, unknown>;

export interface SoqlContext {
  model: OrgModel;
  /** Every stored record of an object (deleted ones too, flagged IsDeleted), keyed by canonical field names. */
  records: (objectName: string) => Iterable<SoqlRecord>;
  /** queryAll: deleted records are returned too. */
  includeDeleted: boolean;
  /** API version for attributes.url, e.g. "60.0" (default "60.0"). */
  apiVersion?: string;
  /** Clock for TODAY / YESTERDAY / LAST_N_DAYS (default: now). */
  now?: () => Date;
  /**
   * Optional index: the live records whose field equals the value (text compared case-insensitively,
   * 18-char ids), or undefined when the field is not indexed. A superset is fine (the WHERE clause is
   * still applied). Used for `field = 'x'` / `field IN (...)` conjuncts so lookups skip the full scan.
   */
  lookup?: (objectName: string, fieldName: string, value: string) => Iterable<SoqlRecord> | undefined;
}

export interface SoqlResult {
  totalSize: number;
  /** REST-shaped records: attributes, selected fields, parents nested (`{ Account: { attributes, Name } }`). */
  records: SoqlRecord[];
  /** Selected columns in canonical casing and order, dotted for parent fields ("Account.Name"); [] for COUNT(). */
  columns: string[];
}

/** System fields every object has, even when the model passed in lacks the loader's additions. */
const SYSTEM_FIELDS: FieldDef[] = [
  { name: 'Id', type: 'id' },
  { name: 'IsDeleted', type: 'boolean' },
  { name: 'CreatedDate', type: 'datetime' },
  { name: 'CreatedById', type: 'reference', referenceTo: ['User'] },
  { name: 'LastModifiedDate', type: 'datetime' },
  { name: 'LastModifiedById', type: 'reference', referenceTo: ['User'] },
  { name: 'SystemModstamp', type: 'datetime' },
];

interface ResolvedField {
  def: FieldDef;
  /** Canonical dotted name, e.g. "Account.Name". */
  column: string;
  /** Set when reached through a parent relationship. */
  parent?: { lookup: FieldDef; relationshipName: string; object: ObjectDef };
}

type Getter = (record: SoqlRecord) => unknown;

/** Runs a parsed (or textual) query over the records the context supplies. */
export function executeSoql(query: SoqlQuery | string, context: SoqlContext): SoqlResult {
  const parsed = typeof query === 'string' ? parseSoql(query) : query;
  return new Execution(parsed, context).run();
}

/** Flattens a REST-shaped record to `{ "Id": ..., "Account.Name": ... }` over the given columns. */
export function flattenRecord(record: SoqlRecord, columns: string[]): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const column of columns) {
    const dot = column.indexOf('.');
    if (dot < 0) {
      flat[column] = record[column];
    } else {
      const parent = record[column.slice(0, dot)] as SoqlRecord | null | undefined;
      flat[column] = parent ? parent[column.slice(dot + 1)] : null;
    }
  }
  return flat;
}

class Execution {
  private readonly object: ObjectDef;
  private readonly version: string;
  private readonly parentIndexes = new Map<string, Map<string, SoqlRecord>>();

  constructor(private readonly query: SoqlQuery, private readonly context: SoqlContext) {
    this.object = this.findObject(query.from.name, query.from.position);
    this.version = (context.apiVersion ?? '60.0').replace(/^v/, '');
  }

  run(): SoqlResult {
    const { query } = this;
    const countItems = query.select.filter((item) => item.kind === 'count');
    if (countItems.length > 0 && query.select.length > 1) {
      const other = query.select.find((item) => item.kind === 'field');
      const position = other?.kind === 'field' ? other.field.position : countItems[1].position;
      const detail = other?.kind === 'field' ? `Field must be grouped or aggregated: ${other.field.path.join('.')}` : 'only one COUNT() is supported';
      throw new SoqlError('MALFORMED_QUERY', located(query.text, position, detail), position);
    }
    const fields = query.select.flatMap((item) => (item.kind === 'field' ? [this.resolve(item.field)] : []));
    const predicate = query.where ? this.compileCondition(query.where) : () => true;
    const sorter = query.orderBy.length > 0 ? this.compileOrder(query.orderBy) : undefined;

    let matches: SoqlRecord[] = [];
    const source = this.indexedCandidates() ?? this.context.records(this.object.name);
    for (const record of source) {
      if (!this.context.includeDeleted && isDeleted(record)) continue;
      if (predicate(record)) matches.push(record);
    }
    if (sorter) matches.sort(sorter);
    const offset = query.offset ?? 0;
    const end = query.limit === undefined ? undefined : offset + query.limit;
    if (offset > 0 || end !== undefined) matches = matches.slice(offset, end);

    const count = countItems[0];
    if (count?.kind === 'count') {
      if (!count.field) return { totalSize: matches.length, records: [], columns: [] };
      const getter = this.getter(this.resolve(count.field));
      const n = matches.filter((record) => !isNull(getter(record))).length;
      const alias = count.alias ?? 'expr0';
      return { totalSize: 1, records: [{ attributes: { type: 'AggregateResult' }, [alias]: n }], columns: [alias] };
    }

    const unique = dedupe(fields);
    const records = matches.map((record) => this.shape(record, unique));
    return { totalSize: records.length, records, columns: unique.map((field) => field.column) };
  }

  /** Records from the context's index for the first indexable conjunct of WHERE, or undefined to scan. */
  private indexedCandidates(): Iterable<SoqlRecord> | undefined {
    const { lookup, includeDeleted } = this.context;
    if (!lookup || includeDeleted || !this.query.where) return undefined;
    const conjuncts: Condition[] = [];
    const collect = (condition: Condition): void => {
      if (condition.kind === 'and') {
        collect(condition.left);
        collect(condition.right);
      } else {
        conjuncts.push(condition);
      }
    };
    collect(this.query.where);
    for (const condition of conjuncts) {
      let field: FieldPath;
      let values: Literal[];
      if (condition.kind === 'compare' && condition.op === '=') {
        field = condition.field;
        values = [condition.value];
      } else if (condition.kind === 'in' && !condition.negated) {
        field = condition.field;
        values = condition.values;
      } else {
        continue;
      }
      const resolved = this.resolve(field);
      const cls = valueClass(resolved.def.type);
      if (resolved.parent || (cls !== 'string' && cls !== 'id')) continue;
      const texts = values.map((v) => (v.kind === 'string' ? unescapeLikeEscapes(v.value) : undefined));
      if (texts.some((t) => t === undefined || t === '' || (cls === 'id' && resolved.def.name !== 'Id' && t.length !== 18))) continue;
      const found = new Map<unknown, SoqlRecord>();
      let indexed = true;
      for (const text of texts as string[]) {
        const hits = lookup(this.object.name, resolved.def.name, text);
        if (!hits) {
          indexed = false;
          break;
        }
        for (const record of hits) found.set(record.Id, record);
      }
      if (indexed) return found.values();
    }
    return undefined;
  }

  // ---- metadata -------------------------------------------------------------------------------

  private findObject(name: string, position: number): ObjectDef {
    const lower = name.toLowerCase();
    const found = this.context.model.objects.find((object) => object.name.toLowerCase() === lower);
    if (!found) {
      throw new SoqlError('INVALID_TYPE', located(this.query.text, position,
        `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`), position);
    }
    return found;
  }

  private findField(object: ObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return object.fields.find((field) => field.name.toLowerCase() === lower)
      ?? SYSTEM_FIELDS.find((field) => field.name.toLowerCase() === lower);
  }

  private resolve(field: FieldPath): ResolvedField {
    let path = field.path;
    const alias = this.query.from.alias;
    if (path.length > 1 && (path[0].toLowerCase() === this.object.name.toLowerCase() || path[0].toLowerCase() === alias?.toLowerCase())) {
      path = path.slice(1);
    }
    const fail = (detail: string): never => {
      throw new SoqlError('INVALID_FIELD', located(this.query.text, field.position, detail), field.position);
    };
    const noColumn = (name: string, object: ObjectDef): string =>
      `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`;
    if (path.length === 1) {
      const def = this.findField(this.object, path[0]);
      if (!def) return fail(noColumn(path[0], this.object));
      return { def, column: def.name };
    }
    if (path.length > 2) return fail(`Only one level of parent relationship is supported: '${field.path.join('.')}'`);
    const relLower = path[0].toLowerCase();
    const lookup = this.object.fields.find((f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === relLower);
    const target = lookup?.referenceTo?.[0];
    const parentObject = target ? this.context.model.objects.find((o) => o.name === target) : undefined;
    if (!lookup || !parentObject) {
      return fail(`Didn't understand relationship '${path[0]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`);
    }
    const def = this.findField(parentObject, path[1]);
    if (!def) return fail(noColumn(path[1], parentObject));
    const relationshipName = lookup.relationshipName ?? path[0];
    return { def, column: `${relationshipName}.${def.name}`, parent: { lookup, relationshipName, object: parentObject } };
  }

  private parentRecord(field: ResolvedField, record: SoqlRecord): SoqlRecord | undefined {
    const parent = field.parent;
    if (!parent) return undefined;
    const id = record[parent.lookup.name];
    if (isNull(id)) return undefined;
    let index = this.parentIndexes.get(parent.object.name);
    if (!index) {
      index = new Map();
      for (const candidate of this.context.records(parent.object.name)) {
        if (!this.context.includeDeleted && isDeleted(candidate)) continue;
        index.set(String(candidate.Id), candidate);
      }
      this.parentIndexes.set(parent.object.name, index);
    }
    return index.get(String(id));
  }

  private getter(field: ResolvedField): Getter {
    const name = field.def.name;
    if (!field.parent) return (record) => record[name];
    return (record) => this.parentRecord(field, record)?.[name];
  }

  // ---- output ---------------------------------------------------------------------------------

  private attributes(type: string, id: unknown): { type: string; url: string } {
    return { type, url: `/services/data/v${this.version}/sobjects/${type}/${String(id)}` };
  }

  private shape(record: SoqlRecord, fields: ResolvedField[]): SoqlRecord {
    const out: SoqlRecord = { attributes: this.attributes(this.object.name, record.Id) };
    for (const field of fields) {
      if (!field.parent) {
        out[field.def.name] = record[field.def.name] ?? null;
        continue;
      }
      const key = field.parent.relationshipName;
      const parent = this.parentRecord(field, record);
      if (!parent) {
        out[key] = null;
        continue;
      }
      let nested = out[key] as SoqlRecord | null | undefined;
      if (!nested) {
        nested = { attributes: this.attributes(field.parent.object.name, parent.Id) };
        out[key] = nested;
      }
      nested[field.def.name] = parent[field.def.name] ?? null;
    }
    return out;
  }

  // ---- WHERE ----------------------------------------------------------------------------------

  private compileCondition(condition: Condition): (record: SoqlRecord) => boolean {
    switch (condition.kind) {
      case 'and': {
        const left = this.compileCondition(condition.left);
        const right = this.compileCondition(condition.right);
        return (record) => left(record) && right(record);
      }
      case 'or': {
        const left = this.compileCondition(condition.left);
        const right = this.compileCondition(condition.right);
        return (record) => left(record) || right(record);
      }
      case 'not': {
        const operand = this.compileCondition(condition.operand);
        return (record) => !operand(record);
      }
      case 'in': {
        const field = this.resolve(condition.field);
        const get = this.getter(field);
        const tests = condition.values.map((value) => this.compileComparison(field, condition.field, '=', value));
        const negated = condition.negated;
        return (record) => {
          const value = get(record);
          const found = tests.some((test) => test(value));
          return negated ? !found : found;
        };
      }
      case 'compare': {
        const field = this.resolve(condition.field);
        const get = this.getter(field);
        const test = this.compileComparison(field, condition.field, condition.op, condition.value);
        return (record) => test(get(record));
      }
    }
  }

  /** A test of one (raw) field value against a literal; checks the literal's type as Salesforce does. */
  private compileComparison(field: ResolvedField, at: FieldPath, op: string, literal: Literal): (value: unknown) => boolean {
    const cls = valueClass(field.def.type);
    if (literal.kind === 'null') {
      if (op === '=') return isNull;
      if (op === '!=') return (value) => !isNull(value);
      return () => false;
    }
    this.checkLiteral(field, at, op, literal, cls);
    if (op === 'LIKE') {
      const matches = likeMatcher(literal.kind === 'string' ? literal.value : '');
      return (value) => !isNull(value) && matches(String(value));
    }
    if (literal.kind === 'dateLiteral') {
      const [start, end] = dateLiteralRange(literal, this.context.now?.() ?? new Date());
      return (value) => {
        const v = normalize(value, cls);
        if (typeof v !== 'number' || Number.isNaN(v)) return op === '!=';
        switch (op) {
          case '=': return v >= start && v < end;
          case '!=': return v < start || v >= end;
          case '<': return v < start;
          case '<=': return v < end;
          case '>': return v >= end;
          default: return v >= start; // >=
        }
      };
    }
    let expected: string | number | boolean | undefined;
    if (cls === 'id') {
      const text = literal.kind === 'string' ? unescapeLikeEscapes(literal.value) : '';
      if (op === '=' || op === '!=') {
        const equal = (value: unknown): boolean => (isNull(value) ? text === '' : sameId(String(value), text));
        return op === '=' ? equal : (value) => !equal(value);
      }
      expected = text;
    } else if (literal.kind === 'string') {
      expected = normalize(unescapeLikeEscapes(literal.value), cls);
    } else if (literal.kind === 'date') {
      expected = normalize(literal.value, 'date');
    } else if (literal.kind === 'datetime') {
      expected = literal.value;
    } else {
      expected = literal.value;
    }
    const target = expected as string | number | boolean;
    return (value) => {
      const v = normalize(value, cls);
      if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) return op === '!=';
      const c = compareValues(v, target);
      switch (op) {
        case '=': return c === 0;
        case '!=': return c !== 0;
        case '<': return c < 0;
        case '<=': return c <= 0;
        case '>': return c > 0;
        default: return c >= 0;
      }
    };
  }

  private checkLiteral(field: ResolvedField, at: FieldPath, op: string, literal: Literal, cls: ValueClass): void {
    const text = this.query.text;
    const name = field.def.name;
    if (op === 'LIKE') {
      if (cls !== 'string' && cls !== 'id') {
        throw new SoqlError('INVALID_FIELD', located(text, at.position, `invalid operator on ${soapTypeName(field.def.type)} field: ${name}`), at.position);
      }
      return;
    }
    const typeName = soapTypeName(field.def.type);
    const ok = ((): boolean => {
      switch (cls) {
        case 'string': return literal.kind === 'string';
        case 'id': return literal.kind === 'string';
        case 'number': return literal.kind === 'number';
        case 'boolean': return literal.kind === 'boolean';
        case 'date': return literal.kind === 'date' || literal.kind === 'dateLiteral';
        case 'datetime': return literal.kind === 'datetime' || literal.kind === 'dateLiteral';
      }
    })();
    if (!ok) {
      const quoted = cls === 'string' || cls === 'id';
      throw new SoqlError('INVALID_FIELD', located(text, at.position,
        `value of filter criterion for field '${name}' must be of type ${typeName} and ${quoted ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'}`), at.position);
    }
    if (cls === 'id' && literal.kind === 'string' && literal.value !== '' && !/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(literal.value)) {
      throw new SoqlError('INVALID_QUERY_FILTER_OPERATOR', located(text, at.position, `invalid ID field: ${literal.value}`), at.position);
    }
    if (cls === 'boolean' && op !== '=' && op !== '!=') {
      throw new SoqlError('INVALID_FIELD', located(text, at.position, `invalid operator on boolean field: ${name}`), at.position);
    }
  }

  // ---- ORDER BY -------------------------------------------------------------------------------

  private compileOrder(items: OrderItem[]): (a: SoqlRecord, b: SoqlRecord) => number {
    const keys = items.map((item) => {
      const field = this.resolve(item.field);
      const get = this.getter(field);
      const cls = valueClass(field.def.type);
      return { get, cls, sign: item.direction === 'DESC' ? -1 : 1, nullsFirst: item.nulls === 'FIRST' };
    });
    return (a, b) => {
      for (const key of keys) {
        const va = normalize(key.get(a), key.cls);
        const vb = normalize(key.get(b), key.cls);
        if (va === undefined && vb === undefined) continue;
        if (va === undefined) return key.nullsFirst ? -1 : 1;
        if (vb === undefined) return key.nullsFirst ? 1 : -1;
        const c = compareValues(va, vb);
        if (c !== 0) return c * key.sign;
      }
      return 0;
    };
  }
}

function isDeleted(record: SoqlRecord): boolean {
  const flag = record.IsDeleted;
  return flag === true || flag === 1 || flag === 'true';
}

function dedupe(fields: ResolvedField[]): ResolvedField[] {
  const seen = new Set<string>();
  return fields.filter((field) => {
    const key = field.column.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
