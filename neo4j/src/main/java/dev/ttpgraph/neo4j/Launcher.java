package dev.ttpgraph.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs Neo4j Community as an embedded DBMS that serves Bolt on loopback, for development and tests.
 *
 * <p>Arguments: --home DIR, --port N (0 picks a free port), --page-cache SIZE_MB, --watch-stdin.
 * The password comes from the environment (TTPGRAPH_NEO4J_PASSWORD) so it never shows in a process
 * list; without it authentication is off. Prints one line "READY bolt://host:port" once Bolt
 * accepts connections, and shuts down cleanly on SIGTERM or, with --watch-stdin, when stdin closes.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parseArgs(args);
    Path home = Path.of(opts.getOrDefault("home", ".data/neo4j")).toAbsolutePath();
    int port = Integer.parseInt(opts.getOrDefault("port", "7687"));
    long pageCacheMb = Long.parseLong(opts.getOrDefault("page-cache", "256"));
    String password = System.getenv("TTPGRAPH_NEO4J_PASSWORD");
    boolean auth = password != null && !password.isEmpty();

    DatabaseManagementService dbms =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(HttpConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, auth)
            .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
            // Small, fast-to-create transaction logs: this instance is for one developer or a CI run.
            .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
            .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
            .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
            .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(10))
            .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              dbms.shutdown();
              stopped.countDown();
            },
            "neo4j-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    if (auth) {
      setPassword(dbms, password);
    }

    GraphDatabaseAPI system = (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
    HostnamePort bolt =
        system
            .getDependencyResolver()
            .resolveDependency(ConnectorPortRegister.class)
            .getLocalAddress(ConnectorType.BOLT);
    System.out.println("READY bolt://" + bolt.getHost() + ":" + bolt.getPort());
    System.out.flush();

    if (opts.containsKey("watch-stdin")) {
      // The parent holds our stdin open for as long as it wants us: EOF means it is gone.
      Thread watcher =
          new Thread(
              () -> {
                try (InputStream in = System.in) {
                  while (in.read() >= 0) {
                    // Input is ignored; only its end matters.
                  }
                } catch (IOException ignored) {
                  // A broken pipe is an end of input too.
                }
                System.exit(0);
              },
              "stdin-watch");
      watcher.setDaemon(true);
      watcher.start();
    }
    stopped.await();
  }

  private static void setPassword(DatabaseManagementService dbms, String password) {
    try {
      dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
          .executeTransactionally(
              "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
              Map.of("password", password));
    } catch (RuntimeException e) {
      // Restarting with the password already set is normal; anything else is not.
      String message = String.valueOf(e.getMessage());
      if (!message.contains("cannot be the same")) {
        throw e;
      }
    }
  }

  private static Map<String, String> parseArgs(String[] args) {
    Map<String, String> out = new java.util.HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument: " + a);
      }
      String key = a.substring(2);
      if (key.equals("watch-stdin")) {
        out.put(key, "true");
      } else if (i + 1 < args.length) {
        out.put(key, args[++i]);
      } else {
        throw new IllegalArgumentException("missing value for " + a);
      }
    }
    return out;
  }
}
