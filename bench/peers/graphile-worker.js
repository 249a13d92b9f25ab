'use strict'
// graphile-worker side of bench/queue.
//
//   node graphile-worker.js setup               install the graphile_worker schema
//   node graphile-worker.js enqueue N [BATCH]   add N no-op jobs, BATCH per addJobs()
//   node graphile-worker.js drain N PROCS CONC  run PROCS worker processes of
//                                               concurrency CONC until the jobs
//                                               table is empty
//
// The worker options are graphile-worker's documented batching mode, as in
// its own perfTest: localQueue.size = 500, completeJobBatchDelay = 0, and a
// pool of CONC + 1 connections.  Success logging is off (NO_LOG_SUCCESS, as
// the perfTest does); warnings and errors go to stderr.

process.env.NO_LOG_SUCCESS = '1' // read when graphile-worker is loaded

const { fork } = require('child_process')
const gw = require('graphile-worker')
const L = require('./lib')

const TASK = 'noop'
const LOCAL_QUEUE_SIZE = 500

const logger = new gw.Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') {
    process.stderr.write(`graphile-worker ${level}: ${message}\n`)
  }
})

async function setup () {
  await gw.runMigrations({ logger })
}

async function enqueue (n, batch) {
  const utils = await gw.makeWorkerUtils({ logger })
  try {
    const start = L.now()
    for (let done = 0; done < n; done += batch) {
      const k = Math.min(batch, n - done)
      const specs = new Array(k)
      for (let i = 0; i < k; i++) {
        specs[i] = { identifier: TASK, payload: { n: done + i } }
      }
      await utils.addJobs(specs)
    }
    L.result({ seconds: L.now() - start })
  } finally {
    await utils.release()
  }
}

// Coordinator: start PROCS worker processes, let each load its modules and
// report "ready", then start the clock and tell them all "go", and poll the
// database every BENCH_POLL_MS until no job is left (a job's row is deleted
// when its completion commits); the clock stops there.  The poll is cheap:
// it stops at the first live row.  The workers report how many jobs their
// handlers ran when they are stopped.
async function drain (n, procs, conc) {
  const db = await L.connect()
  const children = []
  const handled = new Array(procs).fill(0)
  const startup = new Array(procs).fill(0)
  const ready = []
  let stopping = false
  let failed // rejects when a worker exits before it is told to stop
  const failure = new Promise((resolve, reject) => { failed = reject })
  failure.catch(() => {}) // observed through Promise.race below

  for (let i = 0; i < procs; i++) {
    const child = fork(__filename, ['worker', String(conc)])
    children.push(child)
    ready.push(new Promise((resolve) => {
      child.on('message', (m) => {
        if (m.ready) resolve()
        if (typeof m.handled === 'number') handled[i] = m.handled
        if (typeof m.startup === 'number') startup[i] = m.startup
      })
    }))
    child.on('exit', (code) => {
      if (!stopping || code !== 0) failed(new Error(`worker ${i} exited with ${code}`))
    })
  }
  await Promise.race([Promise.all(ready), failure])

  const start = L.now()
  const deadline = start + L.timeoutSeconds()
  for (const c of children) c.send({ cmd: 'go' })
  const total = () => handled.reduce((a, b) => a + b, 0)
  const finished = L.pollUntil(db,
    'SELECT NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS done',
    L.pollMs(), deadline)
  const end = await Promise.race([finished, failure])

  // Stop the workers; each sends its final count before it exits.
  stopping = true
  await Promise.race([failure, Promise.all(children.map((c) =>
    new Promise((resolve) => {
      c.on('exit', resolve)
      c.send({ cmd: 'stop' })
    })))])
  await db.end()
  L.result({ seconds: end - start, startup: Math.max(...startup), handled: total() })
}

// One worker process: run() with the benchmark's options on "go", stop
// cleanly on "stop" and report the handler count.
function worker (conc) {
  let handled = 0
  let running = null // the promise of run()'s runner
  process.on('message', async (m) => {
    try {
      if (m.cmd === 'go') {
        const start = L.now()
        running = gw.run({
          logger,
          noHandleSignals: true,
          taskList: { [TASK]: async () => { handled++ } },
          preset: {
            worker: {
              concurrentJobs: conc,
              maxPoolSize: conc + 1,
              localQueue: { size: LOCAL_QUEUE_SIZE },
              completeJobBatchDelay: 0
            }
          }
        })
        await running
        process.send({ startup: L.now() - start })
      } else if (m.cmd === 'stop') {
        if (running) await (await running).stop()
        process.send({ handled }, () => process.exit(0))
      }
    } catch (err) {
      process.stderr.write(`graphile-worker worker: ${err.stack || err}\n`)
      process.exit(1)
    }
  })
  // The coordinator going away ends the worker too.
  process.on('disconnect', () => process.exit(1))
  process.send({ ready: true })
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  switch (cmd) {
    case 'setup': return setup()
    case 'enqueue': return enqueue(L.intArg(args[0], 'N'), L.intArg(args[1] || '1000', 'BATCH'))
    case 'drain': return drain(L.intArg(args[0], 'N'), L.intArg(args[1], 'PROCS'), L.intArg(args[2], 'CONC'))
    case 'worker': return worker(L.intArg(args[0], 'CONC'))
    default: L.die('usage: graphile-worker.js setup | enqueue N [BATCH] | drain N PROCS CONC')
  }
}

main().catch((err) => L.die(err.stack || String(err)))
