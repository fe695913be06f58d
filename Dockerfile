# loomkv container image: build with Maven on a JDK 25 image, run on a JRE 25 image as a numeric
# non-root user. Build and run (docs/deployment.md):
#   docker build -t loomkv:dev .
#   docker compose -f ops/docker-compose.yml up -d        # a 3-store cluster
# Ports: 2379 clients, 2380 peers (Raft), 2381 metrics and health (/metrics, /livez, /readyz).
# The image runs 'loomkv server --config /etc/loomkv/node.properties' unless told otherwise;
# 'loomkv k8s-config' renders that file from a StatefulSet pod's ordinal (ops/k8s).

FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
# The poms first, so a source change does not download the dependencies again.
COPY pom.xml ./
COPY core/pom.xml core/
COPY compress/pom.xml compress/
COPY persist/pom.xml persist/
COPY engine/pom.xml engine/
COPY net/pom.xml net/
COPY bench/pom.xml bench/
COPY tools/pom.xml tools/
RUN mvn -B -q dependency:go-offline || true
COPY . .
# The release tarball, as './loomkv dist' makes it, unpacked to /opt/loomkv.
RUN mvn -B -q -DskipTests package \
 && java -jar tools/target/loomkv.jar dist --source . --out /tmp/dist \
 && mkdir -p /tmp/unpacked && tar -xzf /tmp/dist/loomkv-*.tar.gz -C /tmp/unpacked \
 && mv /tmp/unpacked/loomkv-* /opt/loomkv

FROM eclipse-temurin:25-jre
# A fixed numeric uid/gid, so volume permissions and Kubernetes' runAsUser/fsGroup can name it.
RUN groupadd --system --gid 10001 loomkv \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/loomkv --shell /usr/sbin/nologin loomkv \
 && install -d -o 10001 -g 10001 /var/lib/loomkv /etc/loomkv
COPY --from=build /opt/loomkv /opt/loomkv
ENV PATH=/opt/loomkv/bin:$PATH \
    LOOMKV_JVM_OPTS="-XX:MaxRAMPercentage=75"
USER 10001:10001
WORKDIR /var/lib/loomkv
VOLUME ["/var/lib/loomkv"]
EXPOSE 2379 2380 2381
# /livez never depends on a leader (etcd's semantics); bash's /dev/tcp, since the JRE image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/2381 && printf 'GET /livez HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/opt/loomkv/bin/loomkv"]
CMD ["server", "--config", "/etc/loomkv/node.properties"]
