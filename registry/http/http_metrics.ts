/** Request counts and latency of the HTTP registry, in Prometheus text format. */
export class HttpMetrics {
  #requests = new Map<string, number>();
  #durationSum = 0;
  #durationCount = 0;

  record(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${route}",method="${method}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    this.#durationSum += seconds;
    this.#durationCount += 1;
  }

  render(): string {
    const lines = [
      "# HELP dynamo_http_requests_total HTTP requests by route, method and status.",
      "# TYPE dynamo_http_requests_total counter",
    ];
    for (const [labels, n] of [...this.#requests].sort()) {
      lines.push(`dynamo_http_requests_total{${labels}} ${n}`);
    }
    lines.push(
      "# HELP dynamo_http_request_duration_seconds Time to answer HTTP requests.",
      "# TYPE dynamo_http_request_duration_seconds summary",
      `dynamo_http_request_duration_seconds_sum ${this.#durationSum}`,
      `dynamo_http_request_duration_seconds_count ${this.#durationCount}`,
    );
    return lines.join("\n") + "\n";
  }
}
