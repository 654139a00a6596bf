import type { Condition, FieldPath, Literal, OrderItem, SelectItem, SoqlQuery, ComparisonOperator } from './ast.ts';
import { SoqlError, located } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

/** Words that end a clause, so they can never be an alias. */
const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'ORDER', 'BY', 'LIMIT', 'OFFSET', 'AND', 'OR', 'NOT', 'IN', 'LIKE',
  'NULL', 'TRUE', 'FALSE', 'ASC', 'DESC', 'NULLS', 'GROUP', 'HAVING', 'WITH', 'FOR', 'USING', 'INCLUDES', 'EXCLUDES',
]);

const DATE_LITERALS = new Set(['TODAY', 'YESTERDAY']);

/** Parses the supported SOQL subset; throws SoqlError(MALFORMED_QUERY) naming the unexpected token. */
export function parseSoql(text: string): SoqlQuery {
  return new Parser(text).parseQuery();
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parseQuery(): SoqlQuery {
    this.expectKeyword('SELECT');
    const select: SelectItem[] = [this.parseSelectItem()];
    while (this.peek().kind === ',') {
      this.next();
      select.push(this.parseSelectItem());
    }
    this.expectKeyword('FROM');
    const objectToken = this.expectIdent();
    const from: SoqlQuery['from'] = { name: objectToken.text, position: objectToken.position };
    if (this.peek().kind === 'ident' && !this.isReserved(this.peek())) {
      from.alias = this.next().text;
    }
    const query: SoqlQuery = { text: this.text, select, from, orderBy: [] };
    if (this.isKeyword('WHERE')) {
      this.next();
      query.where = this.parseCondition();
    }
    if (this.isKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY');
      query.orderBy.push(this.parseOrderItem());
      while (this.peek().kind === ',') {
        this.next();
        query.orderBy.push(this.parseOrderItem());
      }
    }
    if (this.isKeyword('LIMIT')) {
      this.next();
      query.limit = this.expectInteger();
    }
    if (this.isKeyword('OFFSET')) {
      this.next();
      query.offset = this.expectInteger();
    }
    if (this.peek().kind !== 'eof') this.fail(this.peek());
    return query;
  }

  private parseSelectItem(): SelectItem {
    const token = this.peek();
    if (this.isKeyword('COUNT') && this.tokens[this.index + 1]?.kind === '(') {
      this.next();
      this.next();
      let field: FieldPath | undefined;
      if (this.peek().kind !== ')') field = this.parseFieldPath();
      this.expect(')');
      const item: SelectItem = { kind: 'count', position: token.position };
      if (field) item.field = field;
      if (this.peek().kind === 'ident' && !this.isReserved(this.peek())) item.alias = this.next().text;
      return item;
    }
    return { kind: 'field', field: this.parseFieldPath() };
  }

  private parseFieldPath(): FieldPath {
    const first = this.expectIdent();
    const path = [first.text];
    while (this.peek().kind === '.') {
      this.next();
      path.push(this.expectIdent().text);
    }
    return { path, position: first.position };
  }

  private parseOrderItem(): OrderItem {
    const field = this.parseFieldPath();
    let direction: OrderItem['direction'] = 'ASC';
    if (this.isKeyword('ASC') || this.isKeyword('DESC')) direction = this.next().text.toUpperCase() as OrderItem['direction'];
    // Salesforce documents nulls first by default, whatever the direction.
    let nulls: OrderItem['nulls'] = 'FIRST';
    if (this.isKeyword('NULLS')) {
      this.next();
      if (this.isKeyword('FIRST') || this.isKeyword('LAST')) nulls = this.next().text.toUpperCase() as OrderItem['nulls'];
      else this.fail(this.peek());
    }
    return { field, direction, nulls };
  }

  /**
   * A WHERE expression as SOQL allows it: `NOT x`, or operands joined by one kind of operator only
   * (`a AND b AND c`, `a OR b`). Mixing AND with OR, or NOT after AND/OR, needs parentheses:
   * Salesforce answers "unexpected token: 'OR'" (or 'NOT') otherwise, and so does this parser.
   */
  private parseCondition(): Condition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', operand: this.parseOperand() };
    }
    let left = this.parseOperand();
    const joiner = this.isKeyword('AND') ? 'AND' : this.isKeyword('OR') ? 'OR' : undefined;
    if (!joiner) return left;
    const other = joiner === 'AND' ? 'OR' : 'AND';
    while (this.isKeyword(joiner)) {
      this.next();
      if (this.isKeyword('NOT')) this.fail(this.peek());
      const right = this.parseOperand();
      left = joiner === 'AND' ? { kind: 'and', left, right } : { kind: 'or', left, right };
    }
    if (this.isKeyword(other)) this.fail(this.peek());
    return left;
  }

  /** A parenthesized condition or one field comparison. */
  private parseOperand(): Condition {
    if (this.peek().kind === '(') {
      this.next();
      const inner = this.parseCondition();
      this.expect(')');
      return inner;
    }
    return this.parsePredicate();
  }

  private parsePredicate(): Condition {
    const field = this.parseFieldPath();
    const token = this.peek();
    if (this.isKeyword('NOT') || this.isKeyword('IN')) {
      const negated = this.isKeyword('NOT');
      if (negated) this.next();
      this.expectKeyword('IN');
      this.expect('(');
      const values = [this.parseLiteral()];
      while (this.peek().kind === ',') {
        this.next();
        values.push(this.parseLiteral());
      }
      this.expect(')');
      return { kind: 'in', field, negated, values };
    }
    if (this.isKeyword('LIKE')) {
      this.next();
      const pattern = this.peek();
      if (pattern.kind !== 'string') this.fail(pattern);
      return { kind: 'compare', field, op: 'LIKE', value: this.parseLiteral() };
    }
    if (token.kind !== 'op' || token.text === '-' || token.text === '+') this.fail(token);
    this.next();
    const op = (token.text === '<>' ? '!=' : token.text) as ComparisonOperator;
    return { kind: 'compare', field, op, value: this.parseLiteral() };
  }

  private parseLiteral(): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.value ?? '' };
      case 'number':
        return { kind: 'number', value: Number(token.text) };
      case 'date':
        return { kind: 'date', value: token.text };
      case 'datetime': {
        const value = parseDateTime(token.text);
        if (Number.isNaN(value)) this.fail(token);
        return { kind: 'datetime', value, text: token.text };
      }
      case 'op':
        if ((token.text === '-' || token.text === '+') && this.peek().kind === 'number') {
          const n = Number(this.next().text);
          return { kind: 'number', value: token.text === '-' ? -n : n };
        }
        return this.fail(token);
      case 'ident': {
        const word = token.text.toUpperCase();
        if (word === 'NULL') return { kind: 'null' };
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE' };
        if (DATE_LITERALS.has(word)) return { kind: 'dateLiteral', name: word as 'TODAY' | 'YESTERDAY' };
        if (word === 'LAST_N_DAYS') {
          this.expect(':');
          return { kind: 'dateLiteral', name: 'LAST_N_DAYS', n: this.expectInteger() };
        }
        return this.fail(token);
      }
      default:
        return this.fail(token);
    }
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  private isReserved(token: Token): boolean {
    return RESERVED.has(token.text.toUpperCase());
  }

  private expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) this.fail(this.peek());
    return this.next();
  }

  private expectIdent(): Token {
    const token = this.peek();
    if (token.kind !== 'ident' || this.isReserved(token)) this.fail(token);
    return this.next();
  }

  private expect(kind: Token['kind']): Token {
    if (this.peek().kind !== kind) this.fail(this.peek());
    return this.next();
  }

  private expectInteger(): number {
    const token = this.peek();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) this.fail(token);
    return Number(this.next().text);
  }

  private fail(token: Token): never {
    const shown = token.kind === 'eof' ? '<EOF>' : `'${token.text}'`;
    throw new SoqlError('MALFORMED_QUERY', located(this.text, token.position, `unexpected token: ${shown}`), token.position);
  }
}

/** Epoch ms of a SOQL datetime literal (Z or ±hh:mm offsets). */
export function parseDateTime(text: string): number {
  const normalized = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return Date.parse(normalized);
}
