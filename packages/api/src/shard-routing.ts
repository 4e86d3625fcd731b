// Every hot-path statement must be routable to one shard when Minutely runs on Citus (docs/scaling.md):
// the account-scoped tables are distributed by account_id (the account table by its id), so a statement
// that touches one of them must name the account, by an equality (`account_id = $1`, `= ANY($1)`, `IN`, a
// join on account_id) or, for an INSERT, by the inserted account_id. `unroutedStatements` checks the SQL
// text of captured statements by these rules (a textual check, not a planner: it is a tripwire for a query
// written without the account, which on Citus would fan out to every shard).

/** The distribution column of each distributed table: account_id, or id for the account table itself. */
export function distributionColumn(table: string): string {
  return table === "account" ? "id" : "account_id";
}

/** The SQL of a statement with identifiers unquoted, the public schema dropped and whitespace collapsed. */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/"public"\./g, "")
    .replace(/\bpublic\./g, "")
    .replace(/"([a-z_][a-z0-9_]*)"/gi, "$1")
    .replace(/\s+/g, " ")
    .toLowerCase();
}

/** The tables of `tables` a statement reads or writes (FROM, JOIN, UPDATE, INSERT INTO, DELETE FROM). */
export function tablesOf(sql: string, tables: readonly string[]): string[] {
  const text = normalizeSql(sql);
  return tables.filter((table) =>
    new RegExp(`\\b(from|join|update|into|using)\\s+${table}\\b(?!\\.)`).test(text),
  );
}

/** Whether the statement restricts or sets `table`'s distribution column to given values. */
function routes(text: string, table: string): boolean {
  const column = distributionColumn(table);
  // A predicate on the column: `account_id = `, `account.id = `, `account_id = any(`, `account_id in (`,
  // also written qualified (`usage_event.account_id`, `e.account_id`) or as the right-hand side of a join.
  const qualified = column === "id" ? `${table}\\.id` : `(?:[a-z_][a-z0-9_]*\\.)?account_id`;
  const predicate = new RegExp(`(?:^|[^a-z0-9_.])${qualified}\\s*(?:=|\\bin\\b)`);
  if (predicate.test(text)) return true;
  const reversed = new RegExp(`=\\s*${qualified}(?![a-z0-9_])`);
  if (reversed.test(text)) return true;
  // An INSERT into the table names the column among the inserted ones: each row goes to its account's shard.
  const insert = new RegExp(`\\binsert into ${table}\\s*\\(([^)]*)\\)`);
  const columns = insert.exec(text)?.[1];
  return columns?.split(",").some((c) => c.trim() === column) ?? false;
}

/** The statements that touch a distributed table without naming the account (see the module comment). */
export function unroutedStatements(
  statements: readonly string[],
  distributedTables: readonly string[],
): { sql: string; tables: string[] }[] {
  const problems: { sql: string; tables: string[] }[] = [];
  for (const sql of statements) {
    const text = normalizeSql(sql);
    const unrouted = tablesOf(sql, distributedTables).filter((table) => !routes(text, table));
    if (unrouted.length > 0) problems.push({ sql: text, tables: unrouted });
  }
  return problems;
}
