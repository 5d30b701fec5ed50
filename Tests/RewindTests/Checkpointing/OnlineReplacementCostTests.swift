import Testing

@testable import RewindSchedules

@Suite("Online schedule: replacement costs from prefix and suffix sums")
struct OnlineReplacementCostTests {
    /// The O(1) cost of each candidate set equals summing the candidate set itself, for random
    /// checkpoint sets of every size up to the snapshots.
    @Test(arguments: [2, 3, 5, 17, 64])
    func everyCandidatesCostEqualsTheDirectSum(snapshots c: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let count = Int.random(in: 1...c, using: &generator)
            var steps = [0]
            while steps.count < count { steps.append(steps.last! + Int.random(in: 1...40, using: &generator)) }
            let n = steps.last! + Int.random(in: 1...40, using: &generator)
            let costs = OnlineSchedule._ReplacementCosts(steps, appending: n, snapshots: c)
            #expect(costs.inner == OnlineSchedule._innerAdvances(steps, snapshots: c))
            for q in 1..<steps.count {
                let direct = OnlineSchedule._innerAdvances(OnlineSchedule._replacing(q, in: steps, with: n), snapshots: c)
                #expect(costs.innerReplacing(q) == direct, "steps \(steps), n \(n), q \(q)")
            }
        }
    }
}
