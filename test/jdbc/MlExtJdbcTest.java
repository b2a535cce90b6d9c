// ml_ext through the PostgreSQL JDBC driver, the way a BI tool uses it: plain
// functions, standard types, prepared statements with bound parameters, COPY
// through the driver's CopyManager, bytea and float8[] values, SQLSTATEs.
//
// Run by test/jdbc/run.sh against a fresh database.  Connection: ML_JDBC_URL if set,
// otherwise the server's unix socket $PGHOST/.s.PGSQL.$PGPORT (through
// UnixSocketFactory, no TCP needed), database $ML_JDBC_DB (default ml_jdbc), user
// $PGUSER (default postgres).  ML_DATA_CSV is the diabetes CSV to load.
//
// Prints "PASS name" or "FAIL name: why" per check and ends with "N passed, M failed";
// the exit status is 1 when a check failed.

import java.io.FileReader;
import java.io.Reader;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PGobject;

public class MlExtJdbcTest {
    static int passed = 0, failed = 0;

    static void pass(String name) {
        passed++;
        System.out.println("PASS " + name);
    }

    static void fail(String name, String why) {
        failed++;
        System.out.println("FAIL " + name + ": " + why);
    }

    static void check(String name, boolean ok, String why) {
        if (ok) pass(name);
        else fail(name, why);
    }

    interface Body { void run() throws Exception; }

    // a check whose body throws on failure (an unexpected exception fails it)
    static void step(String name, Body body) {
        try {
            body.run();
        } catch (AssertionError e) {
            fail(name, e.getMessage());
        } catch (SQLException e) {
            fail(name, "SQLException " + e.getSQLState() + ": " + e.getMessage());
        } catch (Exception e) {
            fail(name, e.toString());
        }
    }

    static void require(boolean ok, String why) {
        if (!ok) throw new AssertionError(why);
    }

    static String env(String k, String dflt) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() ? dflt : v;
    }

    static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");

    // a top-level numeric member of a flat jsonb text such as {"r2": 0.51, "n_train": 442}
    static double jsonNumber(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(" + NUMBER.pattern() + ")").matcher(json);
        if (!m.find()) throw new AssertionError("no numeric \"" + key + "\" in " + json);
        return Double.parseDouble(m.group(1));
    }

    static boolean close(double a, double b, double tol) {
        return Math.abs(a - b) <= tol;
    }

    static Connection connect() throws SQLException {
        String url = System.getenv("ML_JDBC_URL");
        Properties p = new Properties();
        p.setProperty("user", env("PGUSER", "postgres"));
        p.setProperty("ApplicationName", "ml_ext JDBC test");
        if (url == null || url.isEmpty()) {
            String dir = env("PGHOST", "/var/run/postgresql");
            String port = env("PGPORT", "5432");
            url = "jdbc:postgresql://localhost:" + port + "/" + env("ML_JDBC_DB", "ml_jdbc");
            p.setProperty("socketFactory", "UnixSocketFactory");
            p.setProperty("socketFactoryArg", dir + "/.s.PGSQL." + port);
            p.setProperty("sslmode", "disable");
            p.setProperty("gssEncMode", "disable");
        }
        return DriverManager.getConnection(url, p);
    }

    // the SQLSTATE of running ps (expected to fail); null when it succeeded
    static String sqlStateOf(PreparedStatement ps) {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) { }
            return null;
        } catch (SQLException e) {
            return e.getSQLState() == null ? "(none: " + e.getMessage() + ")" : e.getSQLState();
        }
    }

    static boolean usable(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
            return rs.next() && rs.getInt(1) == 42;
        } catch (SQLException e) {
            return false;
        }
    }

    static long count(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static final String MODEL = "diabetes_jdbc";
    static final String[] COLUMNS = {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"};

    public static void main(String[] args) {
        String csv = env("ML_DATA_CSV", "data/diabetes.csv");
        Connection conn;
        try {
            conn = connect();
            conn.setAutoCommit(true);
            pass("connect (" + conn.getMetaData().getDatabaseProductName() + " "
                 + conn.getMetaData().getDatabaseProductVersion() + ", driver "
                 + conn.getMetaData().getDriverVersion() + ")");
        } catch (SQLException e) {
            fail("connect", e.getSQLState() + ": " + e.getMessage());
            finish();
            return;
        }
        try {
            run(conn, csv);
        } finally {
            try { conn.close(); } catch (SQLException ignored) { }
        }
        finish();
    }

    static void finish() {
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    static void run(Connection conn, String csv) {
        step("create extension ml_ext", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE EXTENSION IF NOT EXISTS ml_ext");
            }
            long n = count(conn, "SELECT count(*) FROM pg_extension WHERE extname = ?", "ml_ext");
            require(n == 1, "ml_ext not in pg_extension");
            pass("create extension ml_ext");
        });

        // data: the diabetes CSV through COPY FROM STDIN (CopyManager)
        step("load data with CopyManager", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE diabetes (id serial PRIMARY KEY, age float8, sex float8, bmi float8,"
                           + " bp float8, s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, s6 float8,"
                           + " progression float8)");
            }
            CopyManager cm = conn.unwrap(PGConnection.class).getCopyAPI();
            long n;
            try (Reader r = new FileReader(csv)) {
                n = cm.copyIn("COPY diabetes (" + String.join(", ", COLUMNS) + ", progression)"
                              + " FROM STDIN WITH (FORMAT csv, HEADER true)", r);
            }
            require(n == 442, "COPY loaded " + n + " rows, expected 442");
            require(count(conn, "SELECT count(*) FROM diabetes") == 442, "table does not hold 442 rows");
            pass("load data with CopyManager (442 rows)");
        });

        // train by name: every argument bound, options as a jsonb PGobject
        final double[] r2v1 = {Double.NaN};
        step("train v1 (PreparedStatement, jsonb PGobject)", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT model_id, name, version, algorithm, metrics FROM ml.train(?, ?, ?, options => ?)")) {
                ps.setString(1, MODEL);
                ps.setString(2, "diabetes");
                ps.setString(3, "progression");
                PGobject opts = new PGobject();
                opts.setType("jsonb");
                opts.setValue("{\"exclude\": [\"id\"]}");
                ps.setObject(4, opts);
                try (ResultSet rs = ps.executeQuery()) {
                    require(rs.next(), "ml.train returned no row");
                    long id = rs.getLong("model_id");
                    String name = rs.getString("name");
                    int version = rs.getInt("version");
                    String algo = rs.getString("algorithm");
                    Object metricsObj = rs.getObject("metrics");
                    String metrics = rs.getString("metrics");
                    require(!rs.next(), "ml.train returned more than one row");
                    require(id > 0, "model_id " + id);
                    require(MODEL.equals(name), "name " + name);
                    require(version == 1, "version " + version + ", expected 1");
                    require("linear_regression".equals(algo), "algorithm " + algo);
                    require(metricsObj instanceof PGobject && "jsonb".equals(((PGobject) metricsObj).getType()),
                            "metrics is not a jsonb PGobject: " + (metricsObj == null ? null : metricsObj.getClass()));
                    double r2 = jsonNumber(metrics, "r2");
                    require(r2 > 0 && r2 < 1, "r2 " + r2 + " not in (0, 1)");
                    require(jsonNumber(metrics, "n_train") == 442, "n_train in " + metrics);
                    r2v1[0] = r2;
                    pass("train v1 (PreparedStatement, jsonb PGobject): model_id " + id + ", version 1, r2 " + r2);
                }
            }
        });

        // the reported r2 against plain SQL over the scored table
        final String R2_SQL = "SELECT 1 - sum((y - p) ^ 2) / sum((y - m) ^ 2) FROM ("
                              + " SELECT t.progression AS y, ml.predict(?, t) AS p, avg(t.progression) OVER () AS m"
                              + " FROM diabetes t) s";
        step("r2 of v1 equals SQL 1 - SSE/SST", () -> {
            try (PreparedStatement ps = conn.prepareStatement(R2_SQL)) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    double sqlR2 = rs.getDouble(1);
                    require(close(sqlR2, r2v1[0], 1e-9), "ml.train says " + r2v1[0] + ", SQL says " + sqlR2);
                    pass("r2 of v1 equals SQL 1 - SSE/SST (" + sqlR2 + ")");
                }
            }
        });

        // retrain: options as a string cast to jsonb; version 2 is deployed
        final double[] r2v2 = {Double.NaN};
        step("retrain gives version 2 (?::jsonb)", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT version, metrics FROM ml.train(?, ?, ?, options => ?::jsonb)")) {
                ps.setString(1, MODEL);
                ps.setString(2, "public.diabetes");
                ps.setString(3, "progression");
                ps.setString(4, "{\"exclude\": [\"id\"], \"lambda\": 0}");
                try (ResultSet rs = ps.executeQuery()) {
                    require(rs.next(), "no row");
                    int version = rs.getInt(1);
                    double r2 = jsonNumber(rs.getString(2), "r2");
                    require(version == 2, "version " + version + ", expected 2");
                    require(r2 > 0 && r2 < 1, "r2 " + r2);
                    r2v2[0] = r2;
                }
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT version FROM ml.models WHERE name = ? AND deployed")) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    require(rs.next() && rs.getInt(1) == 2, "deployed version is not 2");
                    require(!rs.next(), "more than one deployed version");
                }
            }
            require(count(conn, "SELECT count(*) FROM ml.models WHERE name = ?", MODEL) == 2,
                    "ml.models does not hold 2 versions");
            pass("retrain gives version 2 (?::jsonb), deployed");
        });
        step("r2 of v2 equals SQL 1 - SSE/SST", () -> {
            try (PreparedStatement ps = conn.prepareStatement(R2_SQL)) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    double sqlR2 = rs.getDouble(1);
                    require(close(sqlR2, r2v2[0], 1e-9), "ml.train says " + r2v2[0] + ", SQL says " + sqlR2);
                    pass("r2 of v2 equals SQL 1 - SSE/SST");
                }
            }
        });

        step("ml.training_info by name", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT count(*), max(rows) FROM ml.training_info(?)")) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    require(rs.getLong(1) >= 1, "no passes recorded");
                    require(rs.getLong(2) == 442, "max rows " + rs.getLong(2) + ", expected 442");
                    pass("ml.training_info by name (" + rs.getLong(1) + " passes)");
                }
            }
        });

        // the model bytes: ml.model(name) and the registry row agree, magic MLXM
        final byte[][] model = {null};
        step("model bytes: magic and registry", () -> {
            byte[] a, b;
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.model(?)")) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    a = rs.getBytes(1);
                }
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT model FROM ml.models WHERE name = ? AND deployed")) {
                ps.setString(1, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    b = rs.getBytes(1);
                }
            }
            require(a != null && a.length > 16, "ml.model returned " + (a == null ? "NULL" : a.length + " bytes"));
            String magic = new String(a, 0, 4, java.nio.charset.StandardCharsets.US_ASCII);
            require(magic.equals("MLXM"), "magic " + magic);
            require(Arrays.equals(a, b), "ml.model(name) differs from the deployed ml.models row");
            model[0] = a;
            pass("model bytes: magic MLXM, " + a.length + " bytes, equal to the deployed ml.models row");
        });

        // features in model order, and coefficients (the Java reference prediction)
        final List<String> features = new ArrayList<>();
        final Map<String, Double> coef = new HashMap<>();
        step("model features and coefficients", () -> {
            require(model[0] != null, "no model bytes");
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT f FROM jsonb_array_elements_text(ml.model_info(?)->'features') WITH ORDINALITY AS x(f, i) ORDER BY i")) {
                ps.setBytes(1, model[0]);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) features.add(rs.getString(1));
                }
            }
            require(features.equals(Arrays.asList(COLUMNS)), "features " + features);
            try (PreparedStatement ps = conn.prepareStatement("SELECT term, estimate FROM ml.coefficients(?)")) {
                ps.setBytes(1, model[0]);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) coef.put(rs.getString(1), rs.getDouble(2));
                }
            }
            require(coef.containsKey("intercept"), "no intercept term in " + coef.keySet());
            for (String f : features) require(coef.containsKey(f), "no coefficient for " + f);
            pass("model features and coefficients (" + features.size() + " features + intercept)");
        });

        // score rows three ways: by name with a float8[] parameter, by bytea, and in Java
        step("predict by name, by bytea and in Java agree", () -> {
            require(model[0] != null && !coef.isEmpty(), "no model");
            List<double[]> rows = new ArrayList<>();
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT " + String.join(", ", COLUMNS) + " FROM diabetes ORDER BY id LIMIT 20")) {
                while (rs.next()) {
                    double[] x = new double[COLUMNS.length];
                    for (int i = 0; i < x.length; i++) x[i] = rs.getDouble(i + 1);
                    rows.add(x);
                }
            }
            require(rows.size() == 20, "read " + rows.size() + " rows");
            double worstBytea = 0, worstJava = 0;
            // the same statements run 20 times: past prepareThreshold the driver
            // switches to a named server-side statement and binary transfer
            try (PreparedStatement byName = conn.prepareStatement("SELECT ml.predict(?, ?)");
                 PreparedStatement byBytes = conn.prepareStatement("SELECT ml.predict(?::bytea, ?)")) {
                for (double[] x : rows) {
                    Double[] boxed = new Double[x.length];
                    for (int i = 0; i < x.length; i++) boxed[i] = x[i];
                    Array arr = conn.createArrayOf("float8", boxed);
                    byName.setString(1, MODEL);
                    byName.setArray(2, arr);
                    double p1, p2;
                    try (ResultSet rs = byName.executeQuery()) {
                        rs.next();
                        p1 = rs.getDouble(1);
                        require(!rs.wasNull(), "NULL prediction by name");
                    }
                    byBytes.setBytes(1, model[0]);
                    byBytes.setArray(2, arr);
                    try (ResultSet rs = byBytes.executeQuery()) {
                        rs.next();
                        p2 = rs.getDouble(1);
                        require(!rs.wasNull(), "NULL prediction by bytea");
                    }
                    double pj = coef.get("intercept");
                    for (int i = 0; i < x.length; i++) pj += coef.get(features.get(i)) * x[i];
                    worstBytea = Math.max(worstBytea, Math.abs(p1 - p2));
                    worstJava = Math.max(worstJava, Math.abs(p1 - pj));
                    arr.free();
                }
            }
            require(worstBytea <= 1e-12, "by name and by bytea differ by " + worstBytea);
            require(worstJava <= 1e-9, "SQL and Java differ by " + worstJava);
            pass("predict by name (setArray float8[]), by bytea (setBytes) and in Java agree on 20 rows"
                 + " (max |name-bytea| " + worstBytea + ", max |SQL-Java| " + worstJava + ")");
        });

        step("predict by row equals predict by array", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT max(abs(ml.predict(?, t) - ml.predict(?, ARRAY[" + String.join(", ", COLUMNS) + "])))"
                    + " FROM diabetes t")) {
                ps.setString(1, MODEL);
                ps.setString(2, MODEL);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    double d = rs.getDouble(1);
                    require(d <= 1e-12, "max difference " + d);
                    pass("predict by row equals predict by array over 442 rows");
                }
            }
        });

        step("deploy v1 by parameters, then back to v2", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.deploy(?, ?)")) {
                ps.setString(1, MODEL);
                ps.setInt(2, 1);
                ps.execute();
            }
            require(count(conn, "SELECT version FROM ml.models WHERE name = ? AND deployed", MODEL) == 1,
                    "v1 not deployed");
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.deploy(?, ?)")) {
                ps.setString(1, MODEL);
                ps.setInt(2, 2);
                ps.execute();
            }
            require(count(conn, "SELECT version FROM ml.models WHERE name = ? AND deployed", MODEL) == 2,
                    "v2 not deployed");
            pass("deploy v1 by parameters, then back to v2");
        });

        // a tree model: trained by parameters, its bytes read back, scored by
        // name (float8[] with a NaN as a missing value) and by bytea, and
        // checked against a walk of its ml.trees rows in Java
        step("gradient boosting: train, bytes, score, walk in Java", () -> {
            final String gb = MODEL + "_gb";
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT version, algorithm FROM ml.train(?, 'diabetes', 'progression', ?, ?, ?::jsonb)")) {
                ps.setString(1, gb);
                ps.setString(2, "gradient_boosting");
                ps.setArray(3, conn.createArrayOf("text", COLUMNS));
                ps.setString(4, "{\"n_estimators\": 30, \"max_depth\": 3, \"learning_rate\": 0.2}");
                try (ResultSet rs = ps.executeQuery()) {
                    require(rs.next(), "ml.train returned no row");
                    require("gradient_boosting".equals(rs.getString(2)), "algorithm " + rs.getString(2));
                }
            }
            byte[] bytes;
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.model(?)")) {
                ps.setString(1, gb);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    bytes = rs.getBytes(1);
                }
            }
            require(bytes != null && new String(bytes, 0, 4, java.nio.charset.StandardCharsets.US_ASCII).equals("MLXM"),
                    "model bytes");
            double base;
            try (PreparedStatement ps = conn.prepareStatement("SELECT (ml.model_info(?)->'base_score'->>0)::float8")) {
                ps.setBytes(1, bytes);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    base = rs.getDouble(1);
                }
            }
            // the nodes: tree -> node -> {featureIndex or -1, threshold, missingLeft, left, right, value}
            Map<Integer, Map<Integer, double[]>> trees = new HashMap<>();
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT tree, node, feature, threshold, missing_left, left_child, right_child, value[1] FROM ml.trees(?)")) {
                ps.setBytes(1, bytes);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String f = rs.getString(3);
                        double[] n = new double[] {
                            f == null ? -1 : Arrays.asList(COLUMNS).indexOf(f), rs.getDouble(4),
                            rs.getBoolean(5) ? 1 : 0, rs.getInt(6), rs.getInt(7), rs.getDouble(8)};
                        trees.computeIfAbsent(rs.getInt(1), k -> new HashMap<>()).put(rs.getInt(2), n);
                    }
                }
            }
            require(trees.size() == 30, trees.size() + " trees");
            List<double[]> rows = new ArrayList<>();
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT " + String.join(", ", COLUMNS) + " FROM diabetes ORDER BY id LIMIT 20")) {
                while (rs.next()) {
                    double[] x = new double[COLUMNS.length];
                    for (int i = 0; i < x.length; i++) x[i] = rs.getDouble(i + 1);
                    rows.add(x);
                }
            }
            rows.get(0)[2] = Double.NaN;	// bmi missing: the learned default side
            double worst = 0;
            try (PreparedStatement byName = conn.prepareStatement("SELECT ml.predict(?, ?)");
                 PreparedStatement byBytes = conn.prepareStatement("SELECT ml.predict(?::bytea, ?)")) {
                for (double[] x : rows) {
                    Double[] boxed = new Double[x.length];
                    for (int i = 0; i < x.length; i++) boxed[i] = x[i];
                    Array arr = conn.createArrayOf("float8", boxed);
                    byName.setString(1, gb);
                    byName.setArray(2, arr);
                    byBytes.setBytes(1, bytes);
                    byBytes.setArray(2, arr);
                    double p1, p2;
                    try (ResultSet rs = byName.executeQuery()) {
                        rs.next();
                        p1 = rs.getDouble(1);
                    }
                    try (ResultSet rs = byBytes.executeQuery()) {
                        rs.next();
                        p2 = rs.getDouble(1);
                    }
                    double pj = base;
                    for (Map<Integer, double[]> t : trees.values()) {
                        double[] n = t.get(0);
                        while (n[0] >= 0) {
                            double v = x[(int) n[0]];
                            boolean left = Double.isNaN(v) ? n[2] == 1 : v < n[1];
                            n = t.get((int) (left ? n[3] : n[4]));
                        }
                        pj += n[5];
                    }
                    require(p1 == p2, "by name " + p1 + ", by bytea " + p2);
                    worst = Math.max(worst, Math.abs(p1 - pj) / Math.max(1, Math.abs(pj)));
                    arr.free();
                }
            }
            require(worst <= 1e-12, "SQL and the Java walk differ by " + worst);
            pass("gradient boosting: trained by parameters, " + bytes.length + " model bytes, scored by name"
                 + " (float8[] with NaN) and by bytea, equal to a Java walk of ml.trees (max rel diff " + worst + ")");
        });

        step("functions visible in DatabaseMetaData", () -> {
            int n = 0;
            try (ResultSet rs = conn.getMetaData().getFunctions(null, "ml", "predict")) {
                while (rs.next()) n++;
            }
            require(n >= 2, "getFunctions(ml, predict) returned " + n + " rows");
            pass("functions visible in DatabaseMetaData (" + n + " ml.predict overloads)");
        });

        // errors: documented SQLSTATEs, and the connection is still usable
        final long modelsBefore[] = {-1};
        try {
            modelsBefore[0] = count(conn, "SELECT count(*) FROM ml.models");
        } catch (SQLException e) {
            fail("count models", e.getMessage());
        }
        step("unknown model name -> 42704", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.predict(?, ?)")) {
                ps.setString(1, "no_such_model");
                ps.setArray(2, conn.createArrayOf("float8", new Double[] {1.0, 2.0}));
                String s = sqlStateOf(ps);
                require("42704".equals(s), "SQLSTATE " + s);
            }
            require(usable(conn), "connection unusable afterwards");
            pass("unknown model name -> SQLSTATE 42704, connection still usable");
        });
        step("feature array of wrong length -> 22000", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.predict(?, ?)")) {
                ps.setString(1, MODEL);
                ps.setArray(2, conn.createArrayOf("float8", new Double[] {1.0, 2.0, 3.0}));
                String s = sqlStateOf(ps);
                require("22000".equals(s), "SQLSTATE " + s);
            }
            require(usable(conn), "connection unusable afterwards");
            pass("feature array of wrong length -> SQLSTATE 22000, connection still usable");
        });
        step("unknown option -> 22023", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT * FROM ml.train(?, ?, ?, options => ?::jsonb)")) {
                ps.setString(1, MODEL);
                ps.setString(2, "diabetes");
                ps.setString(3, "progression");
                ps.setString(4, "{\"lamda\": 1}");
                String s = sqlStateOf(ps);
                require("22023".equals(s), "SQLSTATE " + s);
            }
            require(usable(conn), "connection unusable afterwards");
            pass("unknown option -> SQLSTATE 22023, connection still usable");
        });
        step("corrupt model bytes -> error, not a crash", () -> {
            require(model[0] != null, "no model");
            byte[] bad = model[0].clone();
            bad[bad.length / 2] ^= 0x5a;
            try (PreparedStatement ps = conn.prepareStatement("SELECT ml.predict(?::bytea, ?)")) {
                ps.setBytes(1, bad);
                ps.setArray(2, conn.createArrayOf("float8", new Double[] {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}));
                String s = sqlStateOf(ps);
                require(s != null && !s.startsWith("08") && !s.startsWith("57"), "SQLSTATE " + s);
                require(usable(conn), "connection unusable afterwards");
                pass("corrupt model bytes -> SQLSTATE " + s + ", connection still usable");
            }
        });
        step("error inside a transaction, rollback, continue", () -> {
            conn.setAutoCommit(false);
            try {
                try (PreparedStatement ps = conn.prepareStatement("SELECT ml.predict(?, ?)")) {
                    ps.setString(1, "no_such_model");
                    ps.setArray(2, conn.createArrayOf("float8", new Double[] {1.0}));
                    String s = sqlStateOf(ps);
                    require("42704".equals(s), "SQLSTATE " + s);
                }
                String aborted;
                try (Statement st = conn.createStatement()) {
                    st.executeQuery("SELECT 1").close();
                    aborted = null;
                } catch (SQLException e) {
                    aborted = e.getSQLState();
                }
                require("25P02".equals(aborted), "statement after the error in the transaction gave " + aborted);
                conn.rollback();
                require(usable(conn), "connection unusable after rollback");
            } finally {
                conn.setAutoCommit(true);
            }
            pass("error inside a transaction -> 25P02 until rollback, then usable");
        });
        step("failed calls left the registry alone", () -> {
            long after = count(conn, "SELECT count(*) FROM ml.models");
            require(after == modelsBefore[0], "ml.models rows " + modelsBefore[0] + " -> " + after);
            pass("failed calls left the registry alone (" + after + " versions)");
        });
    }
}
