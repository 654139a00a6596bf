/** The parsed form of a SOQL query (the subset the emulator supports). */

/** A field reference: ["Name"] or, through one parent relationship, ["Account", "Name"]. */
export interface FieldPath {
  path: string[];
  position: number;              // offset in the query text (for error messages)
}

export type SelectItem =
  | { kind: 'field'; field: FieldPath }
  | { kind: 'count'; field?: FieldPath; alias?: string; position: number };

/** TODAY, YESTERDAY, LAST_N_DAYS:n */
export interface DateLiteral { kind: 'dateLiteral'; name: 'TODAY' | 'YESTERDAY' | 'LAST_N_DAYS'; n?: number }

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }          // YYYY-MM-DD
  | { kind: 'datetime'; value: number; text: string }  // epoch ms
  | DateLiteral;

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';

export type Condition =
  | { kind: 'compare'; field: FieldPath; op: ComparisonOperator; value: Literal }
  | { kind: 'in'; field: FieldPath; negated: boolean; values: Literal[] }
  | { kind: 'and'; left: Condition; right: Condition }
  | { kind: 'or'; left: Condition; right: Condition }
  | { kind: 'not'; operand: Condition };

export interface OrderItem {
  field: FieldPath;
  direction: 'ASC' | 'DESC';
  nulls: 'FIRST' | 'LAST';
}

export interface SoqlQuery {
  text: string;
  select: SelectItem[];
  from: { name: string; alias?: string; position: number };
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}
