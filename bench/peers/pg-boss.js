'use strict'
// pg-boss side of bench/queue.
//
//   node pg-boss.js setup                       install the pgboss schema and
//                                               create the queue "bench"
//   node pg-boss.js enqueue N [BATCH]           insert N no-op jobs, BATCH per insert()
//   node pg-boss.js drain N WORKERS BATCHSIZE   WORKERS x work(batchSize) in one
//                                               process until all N are completed
//
// pg-boss 10 runs a worker as a loop: fetch up to batchSize jobs, run the
// handler, complete them (without awaiting the completion), then sleep for
// what is left of pollingIntervalSeconds (0.5 s, the smallest it accepts).
// Everything else is left at pg-boss's defaults.

const PgBoss = require('pg-boss')
const L = require('./lib')

const QUEUE = 'bench'

function newBoss (extra) {
  const boss = new PgBoss({
    host: process.env.PGHOST,
    user: process.env.PGUSER,
    database: process.env.PGDATABASE,
    ...extra
  })
  boss.on('error', (err) => process.stderr.write(`pg-boss error: ${err.message}\n`))
  return boss
}

async function setup () {
  const boss = newBoss({ supervise: false, schedule: false })
  await boss.start()
  await boss.createQueue(QUEUE)
  await boss.stop({ graceful: false, wait: true })
}

async function enqueue (n, batch) {
  const boss = newBoss({ supervise: false, schedule: false })
  await boss.start()
  const start = L.now()
  for (let done = 0; done < n; done += batch) {
    const k = Math.min(batch, n - done)
    const jobs = new Array(k)
    for (let i = 0; i < k; i++) jobs[i] = { name: QUEUE, data: { n: done + i } }
    await boss.insert(jobs)
  }
  L.result({ seconds: L.now() - start })
  await boss.stop({ graceful: false, wait: true })
}

// The clock starts before boss.start() (connecting, checking the schema,
// starting its maintenance) and the workers.  The handlers count the jobs
// they get; once that reaches N (checked every millisecond, in process) the
// database is polled every BENCH_POLL_MS until all N jobs are in state
// 'completed' (pg-boss completes a batch after its handler returns, without
// awaiting it), and the clock stops there.  Polling only from then on spares
// the server a count over the whole queue every 50 ms.
async function drain (n, workers, batchSize) {
  const db = await L.connect()
  let handled = 0
  const start = L.now()
  const deadline = start + L.timeoutSeconds()
  const boss = newBoss({})
  await boss.start()
  const started = L.now()
  for (let i = 0; i < workers; i++) {
    await boss.work(QUEUE, { batchSize, pollingIntervalSeconds: 0.5 },
      async (jobs) => { handled += jobs.length })
  }
  while (handled < n) {
    if (L.now() > deadline) throw new Error(`timed out: ${handled} of ${n} jobs run`)
    await L.sleep(1)
  }
  const end = await L.pollUntil(db,
    `SELECT count(*) = ${n} AS done FROM pgboss.job
      WHERE name = '${QUEUE}' AND state = 'completed'`, L.pollMs(), deadline)
  await boss.stop({ graceful: true, wait: true })
  await db.end()
  L.result({ seconds: end - start, startup: started - start, handled })
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  switch (cmd) {
    case 'setup': return setup()
    case 'enqueue': return enqueue(L.intArg(args[0], 'N'), L.intArg(args[1] || '1000', 'BATCH'))
    case 'drain': return drain(L.intArg(args[0], 'N'), L.intArg(args[1], 'WORKERS'), L.intArg(args[2], 'BATCHSIZE'))
    default: L.die('usage: pg-boss.js setup | enqueue N [BATCH] | drain N WORKERS BATCHSIZE')
  }
}

main().catch((err) => L.die(err.stack || String(err)))
