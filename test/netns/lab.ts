/**
 * A network lab on real kernel networking: Linux network namespaces joined by veth pairs and
 * bridges, routers that masquerade with nftables (optionally forwarding one port), nftables for
 * loss and partitions, and `tc netem` for latency where the kernel has it. Every address is in 198.18.0.0/15 (RFC 2544,
 * for tests), every namespace carries this lab's prefix, and `close()` deletes them all (veths and bridges die with
 * their namespace). Needs root, `ip` (iproute2) and `nft` (nftables): `Lab.unavailable()` says
 * why not, so a suite can skip with that reason.
 *
 * @example
 * const lab = await Lab.create()
 * await lab.switch('pub')                                      // the "internet"
 * await lab.host('ms', 'pub', '198.18.0.1/24')
 * await lab.nat('nata', 'pub', '198.18.0.11/24', '198.19.1.1/24')
 * await lab.host('alice', 'nata', '198.19.1.2/24', '198.19.1.1')
 * await lab.exec('alice', ['ip', 'addr'])
 * await lab.close()
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A network lab: namespaces this test made, and nothing else. */
export class Lab {
  private readonly made: string[] = []
  private veths = 0

  private constructor (readonly prefix: string) {}

  /** Why this machine cannot run the lab (not root, a tool missing), or null when it can. */
  static unavailable (): string | null {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
    if (process.getuid?.() !== 0) return 'network namespaces need root'
    for (const [tool, args] of [['ip', ['-V']], ['nft', ['--version']], ['tc', ['-V']]] as const) {
      const r = spawnSync(tool, args, { stdio: 'ignore' })
      if (r.error !== undefined || r.status !== 0) return `\`${tool}\` is not installed (apt-get install ${tool === 'nft' ? 'nftables' : 'iproute2'})`
    }
    const probe = `aurap${process.pid}`
    const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
    if (r.status !== 0) return `cannot create a network namespace: ${r.stderr.trim()}`
    spawnSync('ip', ['netns', 'del', probe])
    return null
  }

  /**
   * Why `tc netem` (latency, jitter) cannot run here, or null when it can: some kernels are built
   * without sch_netem (CONFIG_NET_SCH_NETEM). Loss and partitions use nftables instead.
   */
  static netemUnavailable (): string | null {
    const probe = `auran${process.pid}`
    spawnSync('ip', ['netns', 'add', probe])
    try {
      spawnSync('ip', ['netns', 'exec', probe, 'ip', 'link', 'add', 'na', 'type', 'veth', 'peer', 'name', 'nb'])
      const r = spawnSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'na', 'root', 'netem', 'delay', '10ms'], { encoding: 'utf8' })
      return r.status === 0 ? null : `this kernel has no netem qdisc (tc: ${r.stderr.trim()}); latency cannot be emulated`
    } finally {
      spawnSync('ip', ['netns', 'del', probe])
    }
  }

  /** A new, empty lab; its namespaces are deleted when the test process exits, whatever happens. */
  static async create (): Promise<Lab> {
    const lab = new Lab(`aura${process.pid % 100000}${Math.floor(Math.random() * 1000)}`)
    process.once('exit', () => { for (const name of lab.made) spawnSync('ip', ['netns', 'del', lab.ns(name)]) })
    return lab
  }

  /** The kernel name of a lab namespace. */
  ns (name: string): string { return `${this.prefix}-${name}` }

  /** Runs a command inside namespace `name`; rejects with its stderr on failure. */
  async exec (name: string, argv: string[]): Promise<string> {
    try {
      return (await run('ip', ['netns', 'exec', this.ns(name), ...argv], { timeout: 20_000 })).stdout
    } catch (err) {
      const e = err as { stderr?: string, message: string }
      throw new Error(`[${name}] ${argv.join(' ')}: ${e.stderr?.trim() ?? e.message}`)
    }
  }

  /** The argv prefix that runs a program inside namespace `name`. */
  wrap (name: string): string[] { return ['ip', 'netns', 'exec', this.ns(name)] }

  /** A namespace with loopback up. */
  async space (name: string): Promise<void> {
    await run('ip', ['netns', 'add', this.ns(name)])
    this.made.push(name)
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up'])
  }

  /** A namespace holding one bridge `br0`: a switch that hosts and routers plug into. */
  async switch (name: string): Promise<void> {
    await this.space(name)
    await this.exec(name, ['ip', 'link', 'add', 'br0', 'type', 'bridge'])
    await this.exec(name, ['ip', 'link', 'set', 'br0', 'up'])
  }

  /** Plugs namespace `name` into switch `sw` as interface `ifname` with `cidr`. */
  async plug (name: string, sw: string, ifname: string, cidr: string): Promise<void> {
    const a = `${this.prefix.slice(-6)}v${this.veths}a`
    const b = `${this.prefix.slice(-6)}v${this.veths++}b`
    await run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b])
    await run('ip', ['link', 'set', a, 'netns', this.ns(name)])
    await run('ip', ['link', 'set', b, 'netns', this.ns(sw)])
    await this.exec(name, ['ip', 'link', 'set', a, 'name', ifname])
    await this.exec(name, ['ip', 'addr', 'add', cidr, 'dev', ifname])
    await this.exec(name, ['ip', 'link', 'set', ifname, 'up'])
    await this.exec(sw, ['ip', 'link', 'set', b, 'master', 'br0'])
    await this.exec(sw, ['ip', 'link', 'set', b, 'up'])
  }

  /** A host on switch `sw` (interface eth0), with a default route through `gateway` if given. */
  async host (name: string, sw: string, cidr: string, gateway?: string): Promise<void> {
    await this.space(name)
    await this.plug(name, sw, 'eth0', cidr)
    if (gateway !== undefined) await this.exec(name, ['ip', 'route', 'add', 'default', 'via', gateway])
  }

  /**
   * A NAT router: `wan` on switch `upstream`, and a LAN switch of its own (its bridge is the
   * router's LAN side, `lanCidr` is the router's address there). Outgoing traffic is masqueraded
   * (nftables); nothing from outside reaches the LAN unless `forward` names a TCP port to forward
   * to one LAN address.
   */
  async nat (
    name: string,
    upstream: string,
    wanCidr: string,
    lanCidr: string,
    forward?: { port: number, to: string }
  ): Promise<void> {
    await this.switch(name)
    await this.plug(name, upstream, 'wan', wanCidr)
    await this.exec(name, ['ip', 'addr', 'add', lanCidr, 'dev', 'br0'])
    await this.exec(name, ['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    const rules = [
      'table ip auranat {',
      '  chain post { type nat hook postrouting priority 100; oifname "wan" masquerade; }',
      forward === undefined ? '' : `  chain pre { type nat hook prerouting priority -100; iifname "wan" tcp dport ${forward.port} dnat to ${forward.to}; }`,
      '}'
    ].join('\n')
    await this.nft(name, rules)
  }

  /** Loads an nftables ruleset into namespace `name`. */
  async nft (name: string, rules: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', this.ns(name), 'nft', '-f', '-'], { timeout: 20_000 }, (err, _out, stderr) => {
        if (err !== null) reject(new Error(`[${name}] nft: ${stderr.trim() || err.message}`))
        else resolve()
      })
      child.stdin?.end(rules)
    })
  }

  /** Adds latency (ms, with jitter) and loss (%) to every interface of namespace `name` but lo. */
  async netem (name: string, opts: { delayMs: number, jitterMs?: number, lossPct?: number }): Promise<void> {
    for (const dev of await this.interfaces(name)) {
      const args = ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'delay', `${opts.delayMs}ms`]
      if (opts.jitterMs !== undefined) args.push(`${opts.jitterMs}ms`, 'distribution', 'normal')
      if (opts.lossPct !== undefined) args.push('loss', `${opts.lossPct}%`)
      await this.exec(name, args)
    }
  }

  /** Drops `pct`% of the packets namespace `name` sends and receives (nftables, random). */
  async loss (name: string, pct: number): Promise<void> {
    const rule = `numgen random mod 100 < ${Math.round(pct)} drop`
    await this.nft(name, ['table inet auraloss {', `  chain inbound { type filter hook input priority 0; iifname != "lo" ${rule}; }`, `  chain outbound { type filter hook output priority 0; oifname != "lo" ${rule}; }`, '}'].join('\n'))
  }

  /** Cuts namespace `name` off its network (nftables drops everything but loopback) until `heal`. */
  async cut (name: string): Promise<void> {
    await this.nft(name, ['table inet auracut {', '  chain inbound { type filter hook input priority 0; iifname != "lo" drop; }', '  chain outbound { type filter hook output priority 0; oifname != "lo" drop; }', '}'].join('\n'))
  }

  /** Removes cuts, loss and netem from namespace `name`. */
  async heal (name: string): Promise<void> {
    for (const table of ['auracut', 'auraloss']) await this.exec(name, ['nft', 'delete', 'table', 'inet', table]).catch(() => {})
    for (const dev of await this.interfaces(name)) await this.exec(name, ['tc', 'qdisc', 'del', 'dev', dev, 'root']).catch(() => {})
  }

  /** Replaces the address of `ifname` in namespace `name` (a laptop that moved). */
  async readdress (name: string, ifname: string, from: string, to: string, gateway?: string): Promise<void> {
    await this.exec(name, ['ip', 'addr', 'del', from, 'dev', ifname])
    await this.exec(name, ['ip', 'addr', 'add', to, 'dev', ifname])
    if (gateway !== undefined) await this.exec(name, ['ip', 'route', 'replace', 'default', 'via', gateway])
  }

  /** Deletes every namespace of the lab. */
  async close (): Promise<void> {
    for (const name of this.made.reverse()) await run('ip', ['netns', 'del', this.ns(name)]).catch(() => {})
    this.made.length = 0
  }

  private async interfaces (name: string): Promise<string[]> {
    const out = await this.exec(name, ['ip', '-o', 'link', 'show'])
    return out.split('\n').map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1]).filter((d): d is string => d !== undefined && d !== 'lo')
  }
}
