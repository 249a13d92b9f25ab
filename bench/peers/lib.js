'use strict'
// Helpers shared by the peer scripts of bench/queue.
//
// Connection: libpq-style environment variables set by bench/queue
// (PGHOST = the private server's socket directory, PGUSER, PGDATABASE);
// node-postgres reads them itself.
//
// Output: one line "RESULT key=value ..." on stdout, which bench/queue
// parses; everything else goes to stderr.

const { Client } = require('pg')

// Seconds on a monotonic clock.
const now = () => Number(process.hrtime.bigint()) / 1e9

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function result (fields) {
  const parts = Object.entries(fields).map(([k, v]) =>
    `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(6) : v}`)
  process.stdout.write(`RESULT ${parts.join(' ')}\n`)
}

function die (msg) {
  process.stderr.write(`${process.argv[1].replace(/.*\//, '')}: ${msg}\n`)
  process.exit(1)
}

function intArg (s, name) {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) die(`bad ${name}: ${s}`)
  return n
}

async function connect () {
  const c = new Client()
  await c.connect()
  return c
}

// Poll SQL (one row, one boolean column) every pollMs until it is true;
// returns the time (now()) at which it was first seen true.
async function pollUntil (client, sql, pollMs, deadline) {
  for (;;) {
    const { rows } = await client.query(sql)
    const t = now()
    if (Object.values(rows[0])[0] === true) return t
    if (t > deadline) throw new Error(`timed out waiting for: ${sql}`)
    await sleep(pollMs)
  }
}

// How long a drain may take before the peer gives up (seconds).
const timeoutSeconds = () => Number(process.env.BENCH_TIMEOUT || 600)
// How often completion is polled in the database (milliseconds).
const pollMs = () => Number(process.env.BENCH_POLL_MS || 50)

module.exports = { now, sleep, result, die, intArg, connect, pollUntil, timeoutSeconds, pollMs }
