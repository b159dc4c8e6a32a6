package querygate;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.Properties;

/**
 * Runs a fixed workload through pgjdbc and prints every result, so a test can compare the output of
 * a direct connection with one through querygate. Usage: PgProbe jdbcUrl user password table
 */
public final class PgProbe {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String table = args[3];
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    props.setProperty("sslmode", "disable");
    // Server-side prepared statements from the first execution: Parse once, Bind/Execute after.
    props.setProperty("prepareThreshold", "1");
    try (Connection c = DriverManager.getConnection(url, props)) {
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS " + table);
        s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, name text, price numeric(10,2), born date, at timestamp, ok boolean, ratio float8, big bigint)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (int i = 1; i <= 25; i++) {
          p.setInt(1, i);
          p.setString(2, i % 5 == 0 ? null : "name " + i);
          p.setBigDecimal(3, new BigDecimal(i).multiply(new BigDecimal("1.5")));
          p.setDate(4, Date.valueOf("2000-01-" + String.format("%02d", i)));
          p.setTimestamp(5, Timestamp.valueOf("2024-02-03 04:05:" + String.format("%02d", i) + ".25"));
          p.setBoolean(6, i % 2 == 0);
          p.setDouble(7, i / 8.0);
          p.setLong(8, 10_000_000_000L * i);
          p.addBatch();
        }
        int[] counts = p.executeBatch();
        System.out.println("batch " + counts.length);
      }
      c.commit();
      c.setAutoCommit(true);
      try (PreparedStatement p = c.prepareStatement("SELECT * FROM " + table + " WHERE id <= ? ORDER BY id")) {
        for (int limit : new int[] {3, 7, 25}) {
          p.setInt(1, limit);
          try (ResultSet rs = p.executeQuery()) { print(rs); }
        }
      }
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*), sum(price), min(born), max(at) FROM " + table)) {
        print(rs);
      }
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM forbidden_table");
        System.out.println("forbidden: allowed?!");
      } catch (SQLException e) {
        System.out.println("forbidden: " + e.getSQLState());
      }
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 'still here'")) {
        print(rs);
      }
    }
  }

  private static void print(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    StringBuilder header = new StringBuilder();
    for (int i = 1; i <= md.getColumnCount(); i++) header.append(i > 1 ? "|" : "").append(md.getColumnName(i)).append(':').append(md.getColumnTypeName(i));
    System.out.println(header);
    while (rs.next()) {
      StringBuilder row = new StringBuilder();
      for (int i = 1; i <= md.getColumnCount(); i++) row.append(i > 1 ? "|" : "").append(rs.getString(i));
      System.out.println(row);
    }
  }
}
